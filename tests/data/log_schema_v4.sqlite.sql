-- The schema of a SQLite decision log as bip-engine made it before engine/log (schema version 4),
-- read from sqlite_master of a new log (tests/test_log_schema.py builds old logs from it).

CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied TIMESTAMP WITH TIME ZONE NOT NULL);

CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY ("key")
);

CREATE TABLE tokens (
	name VARCHAR(100) NOT NULL,
	role VARCHAR(32) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created DATETIME NOT NULL,
	revoked DATETIME,
	PRIMARY KEY (name),
	UNIQUE (token_hash)
);

CREATE TABLE decisions (
	seq INTEGER NOT NULL,
	decision_id VARCHAR(64) NOT NULL,
	time DATETIME NOT NULL,
	user_name VARCHAR(200) NOT NULL,
	role VARCHAR(32) NOT NULL,
	purpose TEXT NOT NULL,
	kind VARCHAR(16) NOT NULL,
	citizen VARCHAR(64) NOT NULL,
	as_of VARCHAR(10) NOT NULL,
	rulebook_name VARCHAR(200) NOT NULL,
	rulebook_version VARCHAR(100) NOT NULL,
	rulebook_hash VARCHAR(64) NOT NULL,
	engine VARCHAR(32) NOT NULL,
	phase VARCHAR(64),
	confidence VARCHAR(16),
	flags TEXT NOT NULL,
	facts TEXT NOT NULL,
	record_hash VARCHAR(64) NOT NULL, rules_as_of VARCHAR(10), release VARCHAR(200),
	PRIMARY KEY (seq),
	UNIQUE (decision_id)
);

CREATE TABLE purge_window (
	cutoff DATETIME NOT NULL
);

CREATE INDEX decisions_citizen_time ON decisions (citizen, time);

CREATE INDEX decisions_time ON decisions (time);

CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: decisions cannot be changed'); END;

CREATE TRIGGER decisions_guard_delete BEFORE DELETE ON decisions
            WHEN NOT EXISTS (SELECT 1 FROM purge_window WHERE OLD.time < purge_window.cutoff)
            BEGIN SELECT RAISE(ABORT, 'decision log entries are only deleted by a purge of old entries'); END;

CREATE TABLE assessments (
	seq INTEGER NOT NULL,
	assessment_id VARCHAR(64) NOT NULL,
	decision_id VARCHAR(64) NOT NULL,
	time DATETIME NOT NULL,
	user_name VARCHAR(200) NOT NULL,
	role VARCHAR(32) NOT NULL,
	agrees BOOLEAN NOT NULL,
	phase VARCHAR(64),
	reason TEXT,
	flag_notes TEXT NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (assessment_id),
	FOREIGN KEY(decision_id) REFERENCES decisions (decision_id)
);

CREATE INDEX assessments_decision ON assessments (decision_id);

CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: assessments cannot be changed'); END;

CREATE TRIGGER assessments_guard_delete BEFORE DELETE ON assessments WHEN NOT EXISTS (SELECT 1 FROM decisions d, purge_window p WHERE d.decision_id = OLD.decision_id AND d.time < p.cutoff)
            BEGIN SELECT RAISE(ABORT, 'assessments are only deleted with their decision by a purge'); END;
