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
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    user_name text,
    kind character varying(64) NOT NULL,
    session_id text,
    subject text NOT NULL,
    summary text NOT NULL,
    client text,
    outcome character varying(16) NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;


--
-- Name: baselines; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.baselines (
    session_id character varying(64) NOT NULL,
    scenario_id character varying(64) NOT NULL
);


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
-- Name: dataset_blobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dataset_blobs (
    session_id character varying(64) NOT NULL,
    digest character varying(64) NOT NULL,
    data bytea NOT NULL
);


--
-- Name: dataset_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dataset_versions (
    session_id character varying(64) NOT NULL,
    key text NOT NULL,
    version bigint NOT NULL,
    digest character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    creator text,
    classification character varying(32) NOT NULL,
    tables text NOT NULL,
    messages text DEFAULT '[]'::text NOT NULL,
    name text DEFAULT ''::text NOT NULL
);


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
-- Name: experiments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.experiments (
    id character varying(64) NOT NULL,
    session_id character varying(64) NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    cancelled boolean NOT NULL,
    body text NOT NULL,
    "position" bigint NOT NULL
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
    dataset_version bigint,
    dataset_digest character varying(64),
    seed bigint,
    lineage text,
    fingerprint character varying(64),
    trace_context text,
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
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id character varying(64) NOT NULL,
    event character varying(64) NOT NULL,
    url text NOT NULL,
    payload text NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    last_error text,
    created_at timestamp with time zone NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    claimed_by text,
    claim_until timestamp with time zone
);


--
-- Name: audit_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);


--
-- Name: changes seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ALTER COLUMN seq SET DEFAULT nextval('public.changes_seq_seq'::regclass);


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: baselines; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: changes; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.changes VALUES (1, 'ac773299-da74-4aed-a262-2333189c3f07', 'dataset.added', 'week1', '{"dataset":{"key":"week1","version":1,"digest":"7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0"}}', '2026-12-05 21:08:22.94211+00');
INSERT INTO public.changes VALUES (2, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.created', 'cb5890b0-85fa-47fe-8389-a0d6220e2f9c', '{"scenario":{"version":0,"id":"cb5890b0-85fa-47fe-8389-a0d6220e2f9c","tag":"done","status":"created","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:23.975585+00');
INSERT INTO public.changes VALUES (3, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.queued', 'cb5890b0-85fa-47fe-8389-a0d6220e2f9c', '{"scenario":{"version":1,"id":"cb5890b0-85fa-47fe-8389-a0d6220e2f9c","tag":"done","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.000183+00');
INSERT INTO public.changes VALUES (4, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.started', 'cb5890b0-85fa-47fe-8389-a0d6220e2f9c', '{"scenario":{"version":2,"id":"cb5890b0-85fa-47fe-8389-a0d6220e2f9c","tag":"done","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.008443+00');
INSERT INTO public.changes VALUES (5, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.complete', 'cb5890b0-85fa-47fe-8389-a0d6220e2f9c', '{"scenario":{"version":3,"id":"cb5890b0-85fa-47fe-8389-a0d6220e2f9c","tag":"done","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 21:08:24.040272+00');
INSERT INTO public.changes VALUES (6, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.created', '81834825-2da7-4f7f-acdf-a1836d6f8f15', '{"scenario":{"version":0,"id":"81834825-2da7-4f7f-acdf-a1836d6f8f15","tag":"waiting","status":"created","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.075032+00');
INSERT INTO public.changes VALUES (7, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.created', 'c5821ba8-c86f-4436-90f0-d521ef81092f', '{"scenario":{"version":0,"id":"c5821ba8-c86f-4436-90f0-d521ef81092f","tag":"grid-1","status":"created","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.13064+00');
INSERT INTO public.changes VALUES (8, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.queued', 'c5821ba8-c86f-4436-90f0-d521ef81092f', '{"scenario":{"version":1,"id":"c5821ba8-c86f-4436-90f0-d521ef81092f","tag":"grid-1","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.149929+00');
INSERT INTO public.changes VALUES (9, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.started', 'c5821ba8-c86f-4436-90f0-d521ef81092f', '{"scenario":{"version":2,"id":"c5821ba8-c86f-4436-90f0-d521ef81092f","tag":"grid-1","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.154538+00');
INSERT INTO public.changes VALUES (10, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.created', 'd4260e82-6419-4097-a60d-20698bf4ed33', '{"scenario":{"version":0,"id":"d4260e82-6419-4097-a60d-20698bf4ed33","tag":"grid-2","status":"created","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.153167+00');
INSERT INTO public.changes VALUES (11, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.complete', 'c5821ba8-c86f-4436-90f0-d521ef81092f', '{"scenario":{"version":3,"id":"c5821ba8-c86f-4436-90f0-d521ef81092f","tag":"grid-1","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 21:08:24.160699+00');
INSERT INTO public.changes VALUES (12, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.queued', 'd4260e82-6419-4097-a60d-20698bf4ed33', '{"scenario":{"version":1,"id":"d4260e82-6419-4097-a60d-20698bf4ed33","tag":"grid-2","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.1829+00');
INSERT INTO public.changes VALUES (13, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.started', 'd4260e82-6419-4097-a60d-20698bf4ed33', '{"scenario":{"version":2,"id":"d4260e82-6419-4097-a60d-20698bf4ed33","tag":"grid-2","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 21:08:24.192769+00');
INSERT INTO public.changes VALUES (14, 'ac773299-da74-4aed-a262-2333189c3f07', 'scenario.complete', 'd4260e82-6419-4097-a60d-20698bf4ed33', '{"scenario":{"version":3,"id":"d4260e82-6419-4097-a60d-20698bf4ed33","tag":"grid-2","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 21:08:24.213379+00');


--
-- Data for Name: dataset_blobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.dataset_blobs VALUES ('ac773299-da74-4aed-a262-2333189c3f07', '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', '\x414c474f4453310a000001177b22666f726d6174223a22616c676f6d616e63792e64617461736f75726365222c2276657273696f6e223a312c226e616d65223a227765656b31222c22636c617373696669636174696f6e223a226d61737465725f64617461222c226964223a2265343930343134622d626432382d343364372d386639312d333363636637663431636433222c22637265617465645f6174223a22323032362d31322d30355432313a30383a32322e3930373630332b30303a3030222c22646174615f706172616d6574657273223a7b7d2c226578747261223a7b7d2c227461626c6573223a5b7b226e616d65223a226974656d73222c2273697a65223a3739322c22647479706573223a7b22717479223a22696e743634227d7d5d7dffffffff680200001000000000000a000e000600050008000a000000000104001000000000000a000c000000040008000a000000f001000004000000010000000c00000008000c000400080008000000c801000004000000b90100007b22696e6465785f636f6c756d6e73223a205b7b226b696e64223a202272616e6765222c20226e616d65223a206e756c6c2c20227374617274223a20302c202273746f70223a20322c202273746570223a20317d5d2c2022636f6c756d6e5f696e6465786573223a205b7b226e616d65223a206e756c6c2c20226669656c645f6e616d65223a206e756c6c2c202270616e6461735f74797065223a2022756e69636f6465222c20226e756d70795f74797065223a2022737472222c20226d65746164617461223a207b22656e636f64696e67223a20225554462d38227d7d5d2c2022636f6c756d6e73223a205b7b226e616d65223a2022717479222c20226669656c645f6e616d65223a2022717479222c202270616e6461735f74797065223a2022696e743634222c20226e756d70795f74797065223a2022696e743634222c20226d65746164617461223a206e756c6c7d5d2c202261747472696275746573223a207b7d2c202263726561746f72223a207b226c696272617279223a202270796172726f77222c202276657273696f6e223a202232362e302e31227d2c202270616e6461735f76657273696f6e223a2022332e312e31227d0000000600000070616e64617300000100000014000000100014000800060007000c00000010001000000000000102100000001c0000000400000000000000030000007174790008000c0008000700080000000000000140000000ffffffff8800000014000000000000000c0016000600050008000c000c0000000003040018000000100000000000000000000a0018000c00040008000a0000003c0000001000000002000000000000000000000002000000000000000000000000000000000000000000000000000000100000000000000000000000010000000200000000000000000000000000000001000000000000000200000000000000ffffffff00000000');


--
-- Data for Name: dataset_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.dataset_versions VALUES ('ac773299-da74-4aed-a262-2333189c3f07', 'week1', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', '2026-12-05 21:08:22.907603+00', NULL, 'master_data', '{"items": 2}', '[]', 'week1');


--
-- Data for Name: datasets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.datasets VALUES ('ac773299-da74-4aed-a262-2333189c3f07', 'week1', 'master_data', '2026-12-05 21:08:22.907603+00', '{"items": 2}', '\x', 2, 'week1');


--
-- Data for Name: experiments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.experiments VALUES ('eb82f780-287f-4e45-9fe0-72b13883f3f2', 'ac773299-da74-4aed-a262-2333189c3f07', 'grid', '2026-12-05 21:08:24.18372+00', false, '{"base":{"algo_name":"Instant","dataset_key":"week1"},"design":{"kind":"grid","axes":[{"name":"count","values":[1,2]}]},"axes":["count"],"points":[{"count":1},{"count":2}],"scenario_ids":["c5821ba8-c86f-4436-90f0-d521ef81092f","d4260e82-6419-4097-a60d-20698bf4ed33"],"reused":[]}', 10);


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', 12);
INSERT INTO public.meta VALUES ('position', 0);


--
-- Data for Name: result_tables; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: scenarios; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.scenarios VALUES ('cb5890b0-85fa-47fe-8389-a0d6220e2f9c', 'ac773299-da74-4aed-a262-2333189c3f07', 'done', 'week1', 'Instant', '{"count": 3}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 3}', '{"total": 3.0}', '2026-12-05 21:08:22.952092+00', '2026-12-05 21:08:23.992123+00', '2026-12-05 21:08:24.004792+00', '2026-12-05 21:08:24.026977+00', 3, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1641956774, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 3}, "data_parameters": {}, "seed": 1641956774, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'a7dd34b3badab7738e3d8d9a545371ef3ca3ac8a8225aa32f57111785118f9f2', NULL, 3, 4, 'done');
INSERT INTO public.scenarios VALUES ('81834825-2da7-4f7f-acdf-a1836d6f8f15', 'ac773299-da74-4aed-a262-2333189c3f07', 'waiting', 'week1', 'Instant', '{"count": 7}', 'created', 0, NULL, NULL, NULL, '{}', '2026-12-05 21:08:24.068544+00', NULL, NULL, NULL, 0, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1005451886, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 7}, "data_parameters": {}, "seed": 1005451886, "algomancy_version": "0.1.0", "domain_version": null, "executor": null}', '728e26d65b06a511ce353ad532de2f9ee9101b64503c206b9e2cdf1cbfc0bc80', NULL, 5, NULL, 'waiting');
INSERT INTO public.scenarios VALUES ('c5821ba8-c86f-4436-90f0-d521ef81092f', 'ac773299-da74-4aed-a262-2333189c3f07', 'grid-1', 'week1', 'Instant', '{"count": 1}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 1}', '{"total": 3.0}', '2026-12-05 21:08:24.127198+00', '2026-12-05 21:08:24.132164+00', '2026-12-05 21:08:24.15401+00', '2026-12-05 21:08:24.156244+00', 3, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1464788993, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 1}, "data_parameters": {}, "seed": 1464788993, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'ee343eb792341f18d66e52cc1a80440c120f0a12362c6698da4fb08bfe214d6e', NULL, 6, 7, 'grid-1');
INSERT INTO public.scenarios VALUES ('d4260e82-6419-4097-a60d-20698bf4ed33', 'ac773299-da74-4aed-a262-2333189c3f07', 'grid-2', 'week1', 'Instant', '{"count": 2}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 2}', '{"total": 3.0}', '2026-12-05 21:08:24.152147+00', '2026-12-05 21:08:24.167276+00', '2026-12-05 21:08:24.189409+00', '2026-12-05 21:08:24.212609+00', 3, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 256304936, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 2}, "data_parameters": {}, "seed": 256304936, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'de9e2bbbad317b24ee703b25c2303fedb5302d78e18aeafa554029fa70b470f1', NULL, 8, 9, 'grid-2');


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sessions VALUES ('ac773299-da74-4aed-a262-2333189c3f07', 'main', '', '2026-12-05 21:08:22.893998+00', 1, '{"id":"ac773299-da74-4aed-a262-2333189c3f07","display_name":"main"}', 'main');


--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: algomancy_position_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.algomancy_position_seq', 10, true);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, false);


--
-- Name: changes_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.changes_seq_seq', 14, true);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: baselines baselines_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.baselines
    ADD CONSTRAINT baselines_pkey PRIMARY KEY (session_id);


--
-- Name: changes changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes
    ADD CONSTRAINT changes_pkey PRIMARY KEY (seq);


--
-- Name: dataset_blobs dataset_blobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dataset_blobs
    ADD CONSTRAINT dataset_blobs_pkey PRIMARY KEY (session_id, digest);


--
-- Name: dataset_versions dataset_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dataset_versions
    ADD CONSTRAINT dataset_versions_pkey PRIMARY KEY (session_id, key, version);


--
-- Name: datasets datasets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.datasets
    ADD CONSTRAINT datasets_pkey PRIMARY KEY (session_id, key);


--
-- Name: experiments experiments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments
    ADD CONSTRAINT experiments_pkey PRIMARY KEY (id);


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
-- Name: experiments uq_experiments_session_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments
    ADD CONSTRAINT uq_experiments_session_name UNIQUE (session_id, name);


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
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: ix_audit_log_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_log_at ON public.audit_log USING btree (at);


--
-- Name: ix_changes_session_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_changes_session_seq ON public.changes USING btree (session_id, seq);


--
-- Name: ix_scenarios_fingerprint; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_fingerprint ON public.scenarios USING btree (session_id, fingerprint);


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
-- Name: ix_webhook_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_due ON public.webhook_deliveries USING btree (status, next_attempt_at);


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
-- Name: dataset_blobs dataset_blobs_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dataset_blobs
    ADD CONSTRAINT dataset_blobs_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: dataset_versions dataset_versions_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dataset_versions
    ADD CONSTRAINT dataset_versions_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: datasets datasets_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.datasets
    ADD CONSTRAINT datasets_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: experiments experiments_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.experiments
    ADD CONSTRAINT experiments_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


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


