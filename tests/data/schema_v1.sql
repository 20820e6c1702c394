-- aldesk project file, format 1, as created by aldesk 0.1.0. Frozen: never edit.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sources (
    id       INTEGER PRIMARY KEY,
    path     TEXT NOT NULL,
    abs_path TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources(id),
    rel_path    TEXT NOT NULL,
    content_key TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('image', 'dicom', 'unknown')),
    size        INTEGER NOT NULL,
    mtime       REAL NOT NULL,
    width       INTEGER,
    height      INTEGER,
    frames      INTEGER,
    meta        TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ok', 'error', 'missing')),
    reason      TEXT,
    added_at    TEXT NOT NULL,
    UNIQUE (source_id, rel_path)
);
CREATE INDEX items_content_key ON items (content_key);
CREATE TABLE classes (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    hotkey      TEXT UNIQUE,
    colour      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    archived    INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    merged_into INTEGER REFERENCES classes(id),
    created_at  TEXT NOT NULL
);
CREATE TABLE annotations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id            INTEGER NOT NULL REFERENCES items(id),
    kind               TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'unsure', 'clear')),
    annotator          TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    seconds_spent      REAL,
    origin             TEXT NOT NULL DEFAULT 'app',
    model_version      INTEGER,
    score              REAL,
    rank               INTEGER,
    suggestion_shown   INTEGER CHECK (suggestion_shown IN (0, 1)),
    suggested_class_id INTEGER REFERENCES classes(id),
    reverts            INTEGER REFERENCES annotations(id)
);
CREATE INDEX annotations_item ON annotations (item_id, id);
CREATE TABLE annotation_classes (
    annotation_id INTEGER NOT NULL REFERENCES annotations(id),
    class_id      INTEGER NOT NULL REFERENCES classes(id),
    PRIMARY KEY (annotation_id, class_id)
) WITHOUT ROWID;
CREATE TRIGGER annotations_no_update BEFORE UPDATE ON annotations
BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
CREATE TRIGGER annotations_no_delete BEFORE DELETE ON annotations
BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
CREATE TRIGGER annotation_classes_no_update BEFORE UPDATE ON annotation_classes
BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
CREATE TRIGGER annotation_classes_no_delete BEFORE DELETE ON annotation_classes
BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
CREATE TABLE embeddings (
    content_key    TEXT NOT NULL,
    representation TEXT NOT NULL,
    dim            INTEGER NOT NULL,
    vector         BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (content_key, representation)
) WITHOUT ROWID;
CREATE TABLE models (
    version        INTEGER PRIMARY KEY,
    created_at     TEXT NOT NULL,
    representation TEXT NOT NULL,
    head           TEXT NOT NULL,
    labels_used    INTEGER NOT NULL,
    last_annotation_id INTEGER,
    params         TEXT NOT NULL DEFAULT '{}',
    metrics        TEXT NOT NULL DEFAULT '{}',
    weights        BLOB,
    weights_format TEXT
);
CREATE TABLE scores (
    model_version INTEGER NOT NULL REFERENCES models(version),
    strategy      TEXT NOT NULL,
    item_id       INTEGER NOT NULL REFERENCES items(id),
    score         REAL NOT NULL,
    rank          INTEGER NOT NULL,
    probabilities BLOB,
    PRIMARY KEY (model_version, strategy, item_id)
) WITHOUT ROWID;
