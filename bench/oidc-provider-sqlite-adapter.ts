/**
 * A persistent adapter for node-oidc-provider over better-sqlite3, written the way its adapter
 * interface suggests (one row per model instance, JSON payload), with the same durability settings
 * as Tessera (WAL, synchronous=NORMAL). It answers "how much of the gap is persistence?".
 */
import Database from 'better-sqlite3';

interface Payload {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
  [key: string]: unknown;
}

export function sqliteAdapterFactory(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.exec(`CREATE TABLE IF NOT EXISTS models (
    model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT, user_code TEXT, uid TEXT, expires_at INTEGER,
    PRIMARY KEY (model, id));
    CREATE INDEX IF NOT EXISTS models_grant ON models (grant_id);
    CREATE INDEX IF NOT EXISTS models_uid ON models (model, uid);`);
  const upsert = db.prepare(
    `INSERT INTO models (model, id, payload, grant_id, user_code, uid, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
  );
  const find = db.prepare('SELECT payload, expires_at FROM models WHERE model = ? AND id = ?');
  const findByUid = db.prepare('SELECT payload, expires_at FROM models WHERE model = ? AND uid = ?');
  const findByUserCode = db.prepare('SELECT payload, expires_at FROM models WHERE model = ? AND user_code = ?');
  const consume = db.prepare("UPDATE models SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ?");
  const destroy = db.prepare('DELETE FROM models WHERE model = ? AND id = ?');
  const revokeByGrantId = db.prepare('DELETE FROM models WHERE grant_id = ?');

  const read = (row: { payload: string; expires_at: number | null } | undefined): Payload | undefined =>
    row && (row.expires_at === null || row.expires_at > Date.now()) ? (JSON.parse(row.payload) as Payload) : undefined;

  const Adapter = class SqliteAdapter {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      upsert.run(this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn ? Date.now() + expiresIn * 1000 : null);
    }
    async find(id: string) {
      return read(find.get(this.model, id) as never);
    }
    async findByUid(uid: string) {
      return read(findByUid.get(this.model, uid) as never);
    }
    async findByUserCode(userCode: string) {
      return read(findByUserCode.get(this.model, userCode) as never);
    }
    async consume(id: string) {
      consume.run(Math.floor(Date.now() / 1000), this.model, id);
    }
    async destroy(id: string) {
      destroy.run(this.model, id);
    }
    async revokeByGrantId(grantId: string) {
      revokeByGrantId.run(grantId);
    }
  };
  return { Adapter, db };
}
