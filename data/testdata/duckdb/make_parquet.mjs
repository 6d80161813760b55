// Writes stays.parquet, a long-form table in two row groups, with DuckDB's
// own Parquet writer: data/parquet_test.go reads it to check trnn's reader
// against a file it did not write. The values are formulas of the row
// number i (0-based) that the Go test recomputes.
//
// Run (Node.js 18 or later):
//   npm install @duckdb/node-api && node make_parquet.mjs
import { DuckDBInstance } from '@duckdb/node-api';

const out = new URL('./stays.parquet', import.meta.url).pathname;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads = 1'); // one writer: rows stay in order
await con.run(`
COPY (
  SELECT
    's' || (i // 50)                                            AS stay,
    (i % 50)::INTEGER                                           AS hour,
    CASE WHEN i % 7 = 3 THEN NULL
         WHEN i % 11 = 5 THEN 'NaN'::DOUBLE
         ELSE (i % 97) * 0.5 + 60 END::DOUBLE                   AS hr,
    ((i % 13) * 0.125)::FLOAT                                   AS temp,
    CASE WHEN i % 9 = 0 THEN NULL
         ELSE ['1 No Response', '2 To pain', '3 To speech', '4 Spontaneously'][i % 4 + 1] END AS gcs_eye,
    (i * 1000003 - 5000000000)::BIGINT                          AS big,
    (4000000000 + i)::UINTEGER                                  AS unsigned,
    ((i % 1000 - 500) / 100)::DECIMAL(6, 2)                     AS price,
    (i % 3 = 0)                                                 AS flag,
    ((i // 50) % 2)::INTEGER                                    AS y
  FROM (SELECT range AS i FROM range(3000))
) TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
const groups = await con.runAndReadAll(
  `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${out}') ORDER BY 1`);
console.log(out, groups.getRows());
