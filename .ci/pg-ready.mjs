// Exits 0 when the PostgreSQL URL in argv[2] accepts a login and a query, 1 otherwise.
import pg from 'pg';

const client = new pg.Client({ connectionString: process.argv[2], connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.query('SELECT 1');
  process.exitCode = 0;
} catch {
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
