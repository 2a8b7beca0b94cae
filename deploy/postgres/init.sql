-- Runs once, on the first start of an empty data volume (docker-entrypoint-initdb.d).
-- One PostgreSQL server, one database per component: no component reads another's tables.
CREATE DATABASE sop_network;
CREATE DATABASE sop_assessment;
CREATE DATABASE sop_plans;
CREATE DATABASE sop_practice;
CREATE DATABASE sop_gateway;
