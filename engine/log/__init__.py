"""The decision log wing: what every check and explain leaves behind, and the tokens and pseudonyms beside it.

One database (SQLite or PostgreSQL) holds API tokens, the database's secret, the append-only log of
decisions and the caseworkers' assessments of them. The modules, one job each:

- `schema`: the tables (each defined once) and the migrations that make and upgrade them;
- `store`: the connection, transactions and write locks (`Store.open(url)`);
- `tokens`, `pseudonyms`, `decisions`, `assessments`, `retention`, `export`: what is kept and read;
- `replay`: a logged decision run again under the release it used;
- `errors`: what goes wrong, in Danish and English.

The command line (`bip log ...`, `bip tokens ...`, `bip replay`, the log of `bip check`) and the
service (`bip serve`) both use it. It imports the core only, never the service or a web framework.
"""
