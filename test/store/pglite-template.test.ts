import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { isEmptyDataDir, makeTemplate, templatePath } from '../../src/store/pglite-template.js';

describe('embedded store on disk', () => {
  it('starts from the install-time template on an empty folder, keeps its data, and reopens', async () => {
    await makeTemplate(); // normally made by `npm run build`
    expect(fs.existsSync(templatePath())).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-store-'));
    expect(isEmptyDataDir(path.join(dir, 'pg'))).toBe(true);
    const a = await openStore({ dataDir: dir });
    await a.db.insertInto('orgs').values({ id: '00000000-0000-4000-8000-000000000001', name: 'kept', webhook_secret: null, subscription_active: false }).execute();
    await a.close();
    expect(isEmptyDataDir(path.join(dir, 'pg'))).toBe(false);
    const b = await openStore({ dataDir: dir });
    const org = await b.db.selectFrom('orgs').selectAll().where('name', '=', 'kept').executeTakeFirst();
    expect(org?.subscription_active).toBe(false);
    await b.close();
  });
});
