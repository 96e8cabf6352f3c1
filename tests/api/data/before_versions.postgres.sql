--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: algomancy_position_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.algomancy_position_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes (
    seq bigint NOT NULL,
    session_id character varying(64) NOT NULL,
    kind character varying(32) NOT NULL,
    subject text NOT NULL,
    payload text NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: changes_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.changes_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: changes_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.changes_seq_seq OWNED BY public.changes.seq;


--
-- Name: datasets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.datasets (
    session_id character varying(64) NOT NULL,
    key text NOT NULL,
    classification character varying(32) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    tables text NOT NULL,
    data bytea NOT NULL,
    "position" bigint NOT NULL,
    name_key text DEFAULT ''::text NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    name character varying(64) NOT NULL,
    value bigint NOT NULL
);


--
-- Name: result_tables; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.result_tables (
    scenario_id character varying(64) NOT NULL,
    data bytea NOT NULL
);


--
-- Name: scenarios; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.scenarios (
    id character varying(64) NOT NULL,
    session_id character varying(64) NOT NULL,
    tag text NOT NULL,
    dataset_key text NOT NULL,
    algorithm text NOT NULL,
    parameters text NOT NULL,
    status character varying(16) NOT NULL,
    progress double precision NOT NULL,
    progress_message text,
    error text,
    result text,
    kpis text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    queued_at timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    version bigint NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    cancel_requested boolean NOT NULL,
    timeout double precision,
    data_parameters text DEFAULT '{}'::text NOT NULL,
    "position" bigint NOT NULL,
    queue_seq bigint,
    tag_key text DEFAULT ''::text NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id character varying(64) NOT NULL,
    display_name text NOT NULL,
    owner text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    "position" bigint NOT NULL,
    list_entry text DEFAULT ''::text NOT NULL,
    name_key text DEFAULT ''::text NOT NULL
);


--
-- Name: changes seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ALTER COLUMN seq SET DEFAULT nextval('public.changes_seq_seq'::regclass);


--
-- Data for Name: changes; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.changes VALUES (1, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'dataset.added', 'week1', '{"dataset":{"key":"week1"}}', '2026-12-05 18:14:43.5805+00');
INSERT INTO public.changes VALUES (2, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.created', '12b3eda3-871a-4c08-9e20-da0b9818bff3', '{"scenario":{"id":"12b3eda3-871a-4c08-9e20-da0b9818bff3","tag":"before","status":"created","progress":0.0,"message":null,"error":null,"version":0}}', '2026-12-05 18:14:43.668852+00');
INSERT INTO public.changes VALUES (3, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.queued', '12b3eda3-871a-4c08-9e20-da0b9818bff3', '{"scenario":{"id":"12b3eda3-871a-4c08-9e20-da0b9818bff3","tag":"before","status":"queued","progress":0.0,"message":null,"error":null,"version":1}}', '2026-12-05 18:14:43.728708+00');
INSERT INTO public.changes VALUES (4, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.started', '12b3eda3-871a-4c08-9e20-da0b9818bff3', '{"scenario":{"id":"12b3eda3-871a-4c08-9e20-da0b9818bff3","tag":"before","status":"processing","progress":0.0,"message":null,"error":null,"version":2}}', '2026-12-05 18:14:43.752314+00');
INSERT INTO public.changes VALUES (5, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.complete', '12b3eda3-871a-4c08-9e20-da0b9818bff3', '{"scenario":{"id":"12b3eda3-871a-4c08-9e20-da0b9818bff3","tag":"before","status":"complete","progress":1.0,"message":null,"error":null,"version":3}}', '2026-12-05 18:14:43.762016+00');
INSERT INTO public.changes VALUES (6, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'dataset.replaced', 'week1', '{"dataset":{"key":"week1"}}', '2026-12-05 18:14:44.007+00');
INSERT INTO public.changes VALUES (7, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.created', '4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6', '{"scenario":{"id":"4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6","tag":"after","status":"created","progress":0.0,"message":null,"error":null,"version":0}}', '2026-12-05 18:14:44.022348+00');
INSERT INTO public.changes VALUES (8, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.queued', '4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6', '{"scenario":{"id":"4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6","tag":"after","status":"queued","progress":0.0,"message":null,"error":null,"version":1}}', '2026-12-05 18:14:44.027604+00');
INSERT INTO public.changes VALUES (9, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.started', '4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6', '{"scenario":{"id":"4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6","tag":"after","status":"processing","progress":0.0,"message":null,"error":null,"version":2}}', '2026-12-05 18:14:44.047418+00');
INSERT INTO public.changes VALUES (10, '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'scenario.complete', '4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6', '{"scenario":{"id":"4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6","tag":"after","status":"complete","progress":1.0,"message":null,"error":null,"version":3}}', '2026-12-05 18:14:44.103545+00');


--
-- Data for Name: datasets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.datasets VALUES ('2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'week1', 'master_data', '2026-12-05 18:14:43.956831+00', '{"items": 3}', '\x414c474f4453310a000001177b22666f726d6174223a22616c676f6d616e63792e64617461736f75726365222c2276657273696f6e223a312c226e616d65223a227765656b31222c22636c617373696669636174696f6e223a226d61737465725f64617461222c226964223a2262383062346539652d666265362d343361662d383130302d396565626537396238383161222c22637265617465645f6174223a22323032362d31322d30355431383a31343a34332e3935363833312b30303a3030222c22646174615f706172616d6574657273223a7b7d2c226578747261223a7b7d2c227461626c6573223a5b7b226e616d65223a226974656d73222c2273697a65223a3830302c22647479706573223a7b22717479223a22696e743634227d7d5d7dffffffff680200001000000000000a000e000600050008000a000000000104001000000000000a000c000000040008000a000000f001000004000000010000000c00000008000c000400080008000000c801000004000000b90100007b22696e6465785f636f6c756d6e73223a205b7b226b696e64223a202272616e6765222c20226e616d65223a206e756c6c2c20227374617274223a20302c202273746f70223a20332c202273746570223a20317d5d2c2022636f6c756d6e5f696e6465786573223a205b7b226e616d65223a206e756c6c2c20226669656c645f6e616d65223a206e756c6c2c202270616e6461735f74797065223a2022756e69636f6465222c20226e756d70795f74797065223a2022737472222c20226d65746164617461223a207b22656e636f64696e67223a20225554462d38227d7d5d2c2022636f6c756d6e73223a205b7b226e616d65223a2022717479222c20226669656c645f6e616d65223a2022717479222c202270616e6461735f74797065223a2022696e743634222c20226e756d70795f74797065223a2022696e743634222c20226d65746164617461223a206e756c6c7d5d2c202261747472696275746573223a207b7d2c202263726561746f72223a207b226c696272617279223a202270796172726f77222c202276657273696f6e223a202232362e302e31227d2c202270616e6461735f76657273696f6e223a2022332e312e31227d0000000600000070616e64617300000100000014000000100014000800060007000c00000010001000000000000102100000001c0000000400000000000000030000007174790008000c0008000700080000000000000140000000ffffffff8800000014000000000000000c0016000600050008000c000c0000000003040018000000180000000000000000000a0018000c00040008000a0000003c00000010000000030000000000000000000000020000000000000000000000000000000000000000000000000000001800000000000000000000000100000003000000000000000000000000000000020000000000000004000000000000000600000000000000ffffffff00000000', 5, 'week1');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', 8);
INSERT INTO public.meta VALUES ('position', 0);


--
-- Data for Name: result_tables; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: scenarios; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.scenarios VALUES ('12b3eda3-871a-4c08-9e20-da0b9818bff3', '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'before', 'week1', 'Instant', '{"count": 3}', 'complete', 1, NULL, NULL, '{"total": 6, "count": 3}', '{"total": 6.0}', '2026-12-05 18:14:43.643645+00', '2026-12-05 18:14:43.709123+00', '2026-12-05 18:14:43.747451+00', '2026-12-05 18:14:43.756845+00', 3, NULL, NULL, false, NULL, '{}', 3, 4, 'before');
INSERT INTO public.scenarios VALUES ('4c1a5e1b-9354-464d-9f69-9fc5c0a6d0d6', '2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'after', 'week1', 'Instant', '{"count": 3}', 'complete', 1, NULL, NULL, '{"total": 12, "count": 3}', '{"total": 12.0}', '2026-12-05 18:14:44.016852+00', '2026-12-05 18:14:44.026776+00', '2026-12-05 18:14:44.046927+00', '2026-12-05 18:14:44.074823+00', 3, NULL, NULL, false, NULL, '{}', 6, 7, 'after');


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sessions VALUES ('2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0', 'main', '', '2026-12-05 18:14:43.353994+00', 1, '{"id":"2dbf41d7-aa85-4269-8c0e-0daa27eaf5d0","display_name":"main"}', 'main');


--
-- Name: algomancy_position_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.algomancy_position_seq', 7, true);


--
-- Name: changes_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.changes_seq_seq', 10, true);


--
-- Name: changes changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes
    ADD CONSTRAINT changes_pkey PRIMARY KEY (seq);


--
-- Name: datasets datasets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.datasets
    ADD CONSTRAINT datasets_pkey PRIMARY KEY (session_id, key);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (name);


--
-- Name: result_tables result_tables_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.result_tables
    ADD CONSTRAINT result_tables_pkey PRIMARY KEY (scenario_id);


--
-- Name: scenarios scenarios_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.scenarios
    ADD CONSTRAINT scenarios_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: scenarios uq_scenarios_session_tag; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.scenarios
    ADD CONSTRAINT uq_scenarios_session_tag UNIQUE (session_id, tag);


--
-- Name: sessions uq_sessions_owner_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT uq_sessions_owner_name UNIQUE (owner, display_name);


--
-- Name: ix_changes_session_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_changes_session_seq ON public.changes USING btree (session_id, seq);


--
-- Name: ix_scenarios_queue; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_queue ON public.scenarios USING btree (status, session_id, queue_seq);


--
-- Name: ix_scenarios_session_position; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_session_position ON public.scenarios USING btree (session_id, "position");


--
-- Name: ix_sessions_owner_list; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sessions_owner_list ON public.sessions USING btree (owner, "position", list_entry);


--
-- Name: ix_sessions_owner_position; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sessions_owner_position ON public.sessions USING btree (owner, "position");


--
-- Name: uq_datasets_session_name_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_datasets_session_name_key ON public.datasets USING btree (session_id, name_key);


--
-- Name: uq_scenarios_one_processing; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_scenarios_one_processing ON public.scenarios USING btree (session_id) WHERE ((status)::text = 'processing'::text);


--
-- Name: uq_scenarios_session_tag_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_scenarios_session_tag_key ON public.scenarios USING btree (session_id, tag_key);


--
-- Name: uq_sessions_owner_name_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX uq_sessions_owner_name_key ON public.sessions USING btree (owner, name_key);


--
-- Name: datasets datasets_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.datasets
    ADD CONSTRAINT datasets_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: result_tables result_tables_scenario_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.result_tables
    ADD CONSTRAINT result_tables_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.scenarios(id) ON DELETE CASCADE;


--
-- Name: scenarios scenarios_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.scenarios
    ADD CONSTRAINT scenarios_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


