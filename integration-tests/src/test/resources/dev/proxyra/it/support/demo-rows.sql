-- The demo's rows (the suites start from an empty table). Inserted by the superuser, which bypasses
-- row-level security, so each row names its owner explicitly.
INSERT INTO orders (owner, item) VALUES
    ('alice', 'alice: 3 boxes of printer paper'),
    ('alice', 'alice: espresso machine for the 2nd floor'),
    ('bob',   'bob: 12 safety helmets'),
    ('bob',   'bob: concrete mixer rental (2 weeks)');
