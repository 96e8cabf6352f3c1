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
    batch text,
    pruned boolean DEFAULT false NOT NULL,
    reports text,
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
-- Name: studies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.studies (
    id character varying(64) NOT NULL,
    session_id character varying(64) NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    state character varying(16) NOT NULL,
    stop_requested boolean NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    body text NOT NULL,
    "position" bigint NOT NULL
);


--
-- Name: study_trials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.study_trials (
    study_id character varying(64) NOT NULL,
    number integer NOT NULL,
    state character varying(16) NOT NULL,
    source character varying(16) NOT NULL,
    scenario_id character varying(64),
    params text NOT NULL,
    body text NOT NULL
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

INSERT INTO public.changes VALUES (1, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'dataset.added', 'week1', '{"dataset":{"key":"week1","version":1,"digest":"7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0"}}', '2026-12-05 23:46:04.449846+00');
INSERT INTO public.changes VALUES (2, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'eabc38ee-18d9-489a-9821-8bdc6d604396', '{"scenario":{"version":0,"id":"eabc38ee-18d9-489a-9821-8bdc6d604396","tag":"grid-1","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.754026+00');
INSERT INTO public.changes VALUES (3, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'a7ee2a07-2a32-443a-b074-f67066532596', '{"scenario":{"version":0,"id":"a7ee2a07-2a32-443a-b074-f67066532596","tag":"grid-2","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.779492+00');
INSERT INTO public.changes VALUES (4, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'eabc38ee-18d9-489a-9821-8bdc6d604396', '{"scenario":{"version":1,"id":"eabc38ee-18d9-489a-9821-8bdc6d604396","tag":"grid-1","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.795448+00');
INSERT INTO public.changes VALUES (5, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'eabc38ee-18d9-489a-9821-8bdc6d604396', '{"scenario":{"version":2,"id":"eabc38ee-18d9-489a-9821-8bdc6d604396","tag":"grid-1","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:05.807029+00');
INSERT INTO public.changes VALUES (6, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'a7ee2a07-2a32-443a-b074-f67066532596', '{"scenario":{"version":1,"id":"a7ee2a07-2a32-443a-b074-f67066532596","tag":"grid-2","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.831745+00');
INSERT INTO public.changes VALUES (7, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'a7ee2a07-2a32-443a-b074-f67066532596', '{"scenario":{"version":2,"id":"a7ee2a07-2a32-443a-b074-f67066532596","tag":"grid-2","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:05.840349+00');
INSERT INTO public.changes VALUES (8, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', '93e04ed9-1c79-490c-b72a-683f5eab57d2', '{"scenario":{"version":0,"id":"93e04ed9-1c79-490c-b72a-683f5eab57d2","tag":"again-2","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.900722+00');
INSERT INTO public.changes VALUES (9, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', '93e04ed9-1c79-490c-b72a-683f5eab57d2', '{"scenario":{"version":1,"id":"93e04ed9-1c79-490c-b72a-683f5eab57d2","tag":"again-2","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.903857+00');
INSERT INTO public.changes VALUES (10, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', '93e04ed9-1c79-490c-b72a-683f5eab57d2', '{"scenario":{"version":2,"id":"93e04ed9-1c79-490c-b72a-683f5eab57d2","tag":"again-2","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:05.916249+00');
INSERT INTO public.changes VALUES (11, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'ddfe930f-fbe5-40a5-a88f-e9a516f50cfd', '{"scenario":{"version":0,"id":"ddfe930f-fbe5-40a5-a88f-e9a516f50cfd","tag":"rand-1","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.9535+00');
INSERT INTO public.changes VALUES (12, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'bc50c39e-a11f-4eec-996f-77523d12ae44', '{"scenario":{"version":0,"id":"bc50c39e-a11f-4eec-996f-77523d12ae44","tag":"rand-2","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.962109+00');
INSERT INTO public.changes VALUES (13, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f', '{"scenario":{"version":0,"id":"a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f","tag":"rand-3","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.968758+00');
INSERT INTO public.changes VALUES (14, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'a2af3029-0c8a-458b-a1d4-346431ff3add', '{"scenario":{"version":0,"id":"a2af3029-0c8a-458b-a1d4-346431ff3add","tag":"rand-4","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.972576+00');
INSERT INTO public.changes VALUES (15, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', 'c5d9fa62-53ec-4fbf-9887-357d37e96b40', '{"scenario":{"version":0,"id":"c5d9fa62-53ec-4fbf-9887-357d37e96b40","tag":"rand-5","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.980052+00');
INSERT INTO public.changes VALUES (16, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.created', '5c26b2d8-9842-4f2e-aa33-493c69ffdd4c', '{"scenario":{"version":0,"id":"5c26b2d8-9842-4f2e-aa33-493c69ffdd4c","tag":"rand-6","status":"queued","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.982196+00');
INSERT INTO public.changes VALUES (17, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'ddfe930f-fbe5-40a5-a88f-e9a516f50cfd', '{"scenario":{"version":1,"id":"ddfe930f-fbe5-40a5-a88f-e9a516f50cfd","tag":"rand-1","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:05.991487+00');
INSERT INTO public.changes VALUES (18, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'ddfe930f-fbe5-40a5-a88f-e9a516f50cfd', '{"scenario":{"version":2,"id":"ddfe930f-fbe5-40a5-a88f-e9a516f50cfd","tag":"rand-1","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.085648+00');
INSERT INTO public.changes VALUES (19, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'bc50c39e-a11f-4eec-996f-77523d12ae44', '{"scenario":{"version":1,"id":"bc50c39e-a11f-4eec-996f-77523d12ae44","tag":"rand-2","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:06.084625+00');
INSERT INTO public.changes VALUES (20, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f', '{"scenario":{"version":1,"id":"a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f","tag":"rand-3","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:06.099514+00');
INSERT INTO public.changes VALUES (21, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'bc50c39e-a11f-4eec-996f-77523d12ae44', '{"scenario":{"version":2,"id":"bc50c39e-a11f-4eec-996f-77523d12ae44","tag":"rand-2","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.112776+00');
INSERT INTO public.changes VALUES (22, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f', '{"scenario":{"version":2,"id":"a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f","tag":"rand-3","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.177555+00');
INSERT INTO public.changes VALUES (23, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'a2af3029-0c8a-458b-a1d4-346431ff3add', '{"scenario":{"version":1,"id":"a2af3029-0c8a-458b-a1d4-346431ff3add","tag":"rand-4","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:06.183881+00');
INSERT INTO public.changes VALUES (24, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'a2af3029-0c8a-458b-a1d4-346431ff3add', '{"scenario":{"version":2,"id":"a2af3029-0c8a-458b-a1d4-346431ff3add","tag":"rand-4","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.1935+00');
INSERT INTO public.changes VALUES (25, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', 'c5d9fa62-53ec-4fbf-9887-357d37e96b40', '{"scenario":{"version":1,"id":"c5d9fa62-53ec-4fbf-9887-357d37e96b40","tag":"rand-5","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:06.195023+00');
INSERT INTO public.changes VALUES (26, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', 'c5d9fa62-53ec-4fbf-9887-357d37e96b40', '{"scenario":{"version":2,"id":"c5d9fa62-53ec-4fbf-9887-357d37e96b40","tag":"rand-5","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.203134+00');
INSERT INTO public.changes VALUES (27, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.started', '5c26b2d8-9842-4f2e-aa33-493c69ffdd4c', '{"scenario":{"version":1,"id":"5c26b2d8-9842-4f2e-aa33-493c69ffdd4c","tag":"rand-6","status":"processing","progress":0.0,"message":null,"error":null}}', '2026-12-05 23:46:06.211369+00');
INSERT INTO public.changes VALUES (28, 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'scenario.complete', '5c26b2d8-9842-4f2e-aa33-493c69ffdd4c', '{"scenario":{"version":2,"id":"5c26b2d8-9842-4f2e-aa33-493c69ffdd4c","tag":"rand-6","status":"complete","progress":1.0,"message":null,"error":null}}', '2026-12-05 23:46:06.217398+00');


--
-- Data for Name: dataset_blobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.dataset_blobs VALUES ('b8ae33e3-c85d-4d23-a66c-129d9ba33740', '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', '\x414c474f4453310a000001177b22666f726d6174223a22616c676f6d616e63792e64617461736f75726365222c2276657273696f6e223a312c226e616d65223a227765656b31222c22636c617373696669636174696f6e223a226d61737465725f64617461222c226964223a2265643936396638392d626535362d343036342d383161332d366131343437643762646138222c22637265617465645f6174223a22323032362d31322d30355432333a34363a30342e3431303837322b30303a3030222c22646174615f706172616d6574657273223a7b7d2c226578747261223a7b7d2c227461626c6573223a5b7b226e616d65223a226974656d73222c2273697a65223a3739322c22647479706573223a7b22717479223a22696e743634227d7d5d7dffffffff680200001000000000000a000e000600050008000a000000000104001000000000000a000c000000040008000a000000f001000004000000010000000c00000008000c000400080008000000c801000004000000b90100007b22696e6465785f636f6c756d6e73223a205b7b226b696e64223a202272616e6765222c20226e616d65223a206e756c6c2c20227374617274223a20302c202273746f70223a20322c202273746570223a20317d5d2c2022636f6c756d6e5f696e6465786573223a205b7b226e616d65223a206e756c6c2c20226669656c645f6e616d65223a206e756c6c2c202270616e6461735f74797065223a2022756e69636f6465222c20226e756d70795f74797065223a2022737472222c20226d65746164617461223a207b22656e636f64696e67223a20225554462d38227d7d5d2c2022636f6c756d6e73223a205b7b226e616d65223a2022717479222c20226669656c645f6e616d65223a2022717479222c202270616e6461735f74797065223a2022696e743634222c20226e756d70795f74797065223a2022696e743634222c20226d65746164617461223a206e756c6c7d5d2c202261747472696275746573223a207b7d2c202263726561746f72223a207b226c696272617279223a202270796172726f77222c202276657273696f6e223a202232362e302e31227d2c202270616e6461735f76657273696f6e223a2022332e312e31227d0000000600000070616e64617300000100000014000000100014000800060007000c00000010001000000000000102100000001c0000000400000000000000030000007174790008000c0008000700080000000000000140000000ffffffff8800000014000000000000000c0016000600050008000c000c0000000003040018000000100000000000000000000a0018000c00040008000a0000003c0000001000000002000000000000000000000002000000000000000000000000000000000000000000000000000000100000000000000000000000010000000200000000000000000000000000000001000000000000000200000000000000ffffffff00000000');


--
-- Data for Name: dataset_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.dataset_versions VALUES ('b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'week1', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', '2026-12-05 23:46:04.410872+00', NULL, 'master_data', '{"items": 2}', '[]', 'week1');


--
-- Data for Name: datasets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.datasets VALUES ('b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'week1', 'master_data', '2026-12-05 23:46:04.410872+00', '{"items": 2}', '\x', 2, 'week1');


--
-- Data for Name: experiments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.experiments VALUES ('c13911d6-d85e-41cf-857b-08bea70601c6', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'grid', '2026-12-05 23:46:05.787568+00', false, '{"base":{"algo_name":"Instant","dataset_key":"week1"},"design":{"kind":"grid","axes":[{"name":"count","values":[1,2]}]},"axes":["count"],"points":[{"count":1},{"count":2}],"scenario_ids":["eabc38ee-18d9-489a-9821-8bdc6d604396","a7ee2a07-2a32-443a-b074-f67066532596"],"reused":[]}', 5);
INSERT INTO public.experiments VALUES ('12b5878d-4932-460f-a46e-abe3d777e493', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'again', '2026-12-05 23:46:05.901662+00', false, '{"base":{"algo_name":"Instant","dataset_key":"week1"},"design":{"kind":"grid","axes":[{"name":"count","values":[2,3]}]},"axes":["count"],"points":[{"count":2},{"count":3}],"scenario_ids":["a7ee2a07-2a32-443a-b074-f67066532596","93e04ed9-1c79-490c-b72a-683f5eab57d2"],"reused":[1]}', 7);
INSERT INTO public.experiments VALUES ('04831be9-142a-488a-b2cd-49c51e7e9f81', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand', '2026-12-05 23:46:05.98271+00', false, '{"base":{"algo_name":"Instant","dataset_key":"week1"},"design":{"kind":"random","n":3,"seed":4,"repetitions":2,"axes":[{"name":"count","min":0,"max":50}]},"axes":["count","run.seed"],"points":[{"count":48,"run.seed":2025197564},{"count":26,"run.seed":1560023973},{"count":26,"run.seed":2025197564},{"count":49,"run.seed":1560023973},{"count":49,"run.seed":2025197564}],"scenario_ids":["bc50c39e-a11f-4eec-996f-77523d12ae44","a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f","a2af3029-0c8a-458b-a1d4-346431ff3add","c5d9fa62-53ec-4fbf-9887-357d37e96b40","5c26b2d8-9842-4f2e-aa33-493c69ffdd4c"],"reused":[],"numbers":[2,3,4,5,6],"dropped":[1]}', 14);


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', 15);
INSERT INTO public.meta VALUES ('position', 0);


--
-- Data for Name: result_tables; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: scenarios; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.scenarios VALUES ('eabc38ee-18d9-489a-9821-8bdc6d604396', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'grid-1', 'week1', 'Instant', '{"count": 1}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 1}', '{"total": 3.0}', '2026-12-05 23:46:05.727559+00', '2026-12-05 23:46:05.727559+00', '2026-12-05 23:46:05.792117+00', '2026-12-05 23:46:05.804456+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1464788993, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 1}, "data_parameters": {}, "seed": 1464788993, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'ee343eb792341f18d66e52cc1a80440c120f0a12362c6698da4fb08bfe214d6e', NULL, 'experiment:c13911d6-d85e-41cf-857b-08bea70601c6', false, NULL, 3, 3, 'grid-1');
INSERT INTO public.scenarios VALUES ('a7ee2a07-2a32-443a-b074-f67066532596', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'grid-2', 'week1', 'Instant', '{"count": 2}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 2}', '{"total": 3.0}', '2026-12-05 23:46:05.768234+00', '2026-12-05 23:46:05.768234+00', '2026-12-05 23:46:05.830771+00', '2026-12-05 23:46:05.83406+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 256304936, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 2}, "data_parameters": {}, "seed": 256304936, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'de9e2bbbad317b24ee703b25c2303fedb5302d78e18aeafa554029fa70b470f1', NULL, 'experiment:c13911d6-d85e-41cf-857b-08bea70601c6', false, NULL, 4, 4, 'grid-2');
INSERT INTO public.scenarios VALUES ('93e04ed9-1c79-490c-b72a-683f5eab57d2', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'again-2', 'week1', 'Instant', '{"count": 3}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 3}', '{"total": 3.0}', '2026-12-05 23:46:05.882426+00', '2026-12-05 23:46:05.882426+00', '2026-12-05 23:46:05.90323+00', '2026-12-05 23:46:05.914005+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1641956774, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 3}, "data_parameters": {}, "seed": 1641956774, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'a7dd34b3badab7738e3d8d9a545371ef3ca3ac8a8225aa32f57111785118f9f2', NULL, 'experiment:12b5878d-4932-460f-a46e-abe3d777e493', false, NULL, 6, 6, 'again-2');
INSERT INTO public.scenarios VALUES ('bc50c39e-a11f-4eec-996f-77523d12ae44', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-2', 'week1', 'Instant', '{"count": 48}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 48}', '{"total": 3.0}', '2026-12-05 23:46:05.956122+00', '2026-12-05 23:46:05.956122+00', '2026-12-05 23:46:06.083705+00', '2026-12-05 23:46:06.091694+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 2025197564, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 48}, "data_parameters": {}, "seed": 2025197564, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', '0b4fdaf5869a0ec20607e31e408e6159a50e4d23d049249f0397d9603a47c20f', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 9, 9, 'rand-2');
INSERT INTO public.scenarios VALUES ('a3ab6ff1-7dc0-4a31-b963-00ae59d6aa8f', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-3', 'week1', 'Instant', '{"count": 26}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 26}', '{"total": 3.0}', '2026-12-05 23:46:05.962624+00', '2026-12-05 23:46:05.962624+00', '2026-12-05 23:46:06.09668+00', '2026-12-05 23:46:06.17125+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1560023973, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 26}, "data_parameters": {}, "seed": 1560023973, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', '6bb3a5267b6c2573da8bd0f1fa9686e2c0488c22b47f7242b75fedf3322f5f64', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 10, 10, 'rand-3');
INSERT INTO public.scenarios VALUES ('a2af3029-0c8a-458b-a1d4-346431ff3add', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-4', 'week1', 'Instant', '{"count": 26}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 26}', '{"total": 3.0}', '2026-12-05 23:46:05.969276+00', '2026-12-05 23:46:05.969276+00', '2026-12-05 23:46:06.18227+00', '2026-12-05 23:46:06.189185+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 2025197564, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 26}, "data_parameters": {}, "seed": 2025197564, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', '5233f6976db5560d2f5e1848837f2da8d9ace802b527e7acd413900235bf4bdb', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 11, 11, 'rand-4');
INSERT INTO public.scenarios VALUES ('c5d9fa62-53ec-4fbf-9887-357d37e96b40', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-5', 'week1', 'Instant', '{"count": 49}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 49}', '{"total": 3.0}', '2026-12-05 23:46:05.974041+00', '2026-12-05 23:46:05.974041+00', '2026-12-05 23:46:06.19159+00', '2026-12-05 23:46:06.200198+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1560023973, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 49}, "data_parameters": {}, "seed": 1560023973, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'a506ce5a1941fa061d240b0b898e084655ec590137b552adafaf1e460f22914d', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 12, 12, 'rand-5');
INSERT INTO public.scenarios VALUES ('5c26b2d8-9842-4f2e-aa33-493c69ffdd4c', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-6', 'week1', 'Instant', '{"count": 49}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 49}', '{"total": 3.0}', '2026-12-05 23:46:05.980815+00', '2026-12-05 23:46:05.980815+00', '2026-12-05 23:46:06.206708+00', '2026-12-05 23:46:06.214307+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 2025197564, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 49}, "data_parameters": {}, "seed": 2025197564, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', 'eaa5309bcd83b4b6ae3cc1a080ad163e1544da44a142836fe2774a94cfd414c2', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 13, 13, 'rand-6');
INSERT INTO public.scenarios VALUES ('ddfe930f-fbe5-40a5-a88f-e9a516f50cfd', 'b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'rand-1', 'week1', 'Instant', '{"count": 48}', 'complete', 1, NULL, NULL, '{"total": 3, "count": 48}', '{"total": 3.0}', '2026-12-05 23:46:05.951797+00', '2026-12-05 23:46:05.951797+00', '2026-12-05 23:46:05.985316+00', '2026-12-05 23:46:06.081896+00', 2, NULL, NULL, false, NULL, '{}', 1, '7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0', 1560023973, '{"known": true, "dataset_key": "week1", "dataset_version": 1, "dataset_digest": "7716ee45f4bd3b5bf231dfd8b74757a1e8ef8ed9ab77b18987ccbc2ecbfc7bc0", "algorithm": {"name": "Instant", "version": "src-0aeb757102b1f898"}, "parameters": {"count": 48}, "data_parameters": {}, "seed": 1560023973, "algomancy_version": "0.1.0", "domain_version": null, "executor": "thread"}', '108604b405a182493848f4d00bd7b301166c264754f8bcdf2c7489240d11c6cd', NULL, 'experiment:04831be9-142a-488a-b2cd-49c51e7e9f81', false, NULL, 8, 8, 'rand-1');


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sessions VALUES ('b8ae33e3-c85d-4d23-a66c-129d9ba33740', 'main', '', '2026-12-05 23:46:04.383995+00', 1, '', 'main');


--
-- Data for Name: studies; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: study_trials; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: algomancy_position_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.algomancy_position_seq', 14, true);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, false);


--
-- Name: changes_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.changes_seq_seq', 28, true);


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
-- Name: studies studies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studies
    ADD CONSTRAINT studies_pkey PRIMARY KEY (id);


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
-- Name: studies uq_studies_session_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studies
    ADD CONSTRAINT uq_studies_session_name UNIQUE (session_id, name);


--
-- Name: study_trials uq_study_trials_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_trials
    ADD CONSTRAINT uq_study_trials_number UNIQUE (study_id, number);


--
-- Name: study_trials uq_study_trials_scenario; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_trials
    ADD CONSTRAINT uq_study_trials_scenario UNIQUE (study_id, scenario_id);


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
-- Name: ix_scenarios_batch_queue; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_batch_queue ON public.scenarios USING btree (status, batch, queue_seq) WHERE (batch IS NOT NULL);


--
-- Name: ix_scenarios_batch_served; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_batch_served ON public.scenarios USING btree (batch, started_at) WHERE (batch IS NOT NULL);


--
-- Name: ix_scenarios_fingerprint; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_fingerprint ON public.scenarios USING btree (session_id, fingerprint);


--
-- Name: ix_scenarios_queue; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_scenarios_queue ON public.scenarios USING btree (status, session_id, batch, queue_seq);


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
-- Name: ix_studies_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_studies_state ON public.studies USING btree (state);


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

CREATE UNIQUE INDEX uq_scenarios_one_processing ON public.scenarios USING btree (session_id) WHERE (((status)::text = 'processing'::text) AND (batch IS NULL));


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
-- Name: studies studies_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studies
    ADD CONSTRAINT studies_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: study_trials study_trials_study_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_trials
    ADD CONSTRAINT study_trials_study_id_fkey FOREIGN KEY (study_id) REFERENCES public.studies(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


