import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { resolveExecutable } from './resolveExecutable.js';

test('PATH first, then the home bin directory; only executable files count', (t) => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-resolve-'));
	t.after(() => rmSync(dir, { recursive: true, force: true }));
	const [onPath, bin, other] = ['path', 'bin', 'other'].map((name) => path.join(dir, name));
	for (const d of [onPath!, bin!, other!]) mkdirSync(d);
	writeFileSync(path.join(bin!, 'svc'), '#!/bin/sh\n', { mode: 0o755 });
	writeFileSync(path.join(onPath!, 'plain'), 'not executable', { mode: 0o644 });
	writeFileSync(path.join(bin!, 'plain'), '#!/bin/sh\n', { mode: 0o755 });
	const options = { cwd: dir, binDir: bin!, pathEnv: `${onPath}:${other}` };
	assert.equal(resolveExecutable('svc', options), path.join(bin!, 'svc'));
	assert.equal(resolveExecutable('plain', options), path.join(bin!, 'plain'));
	writeFileSync(path.join(onPath!, 'svc'), '#!/bin/sh\n', { mode: 0o755 });
	assert.equal(resolveExecutable('svc', options), path.join(onPath!, 'svc'));
	assert.equal(resolveExecutable('missing', options), null);
	assert.equal(resolveExecutable('./bin/svc', options), path.join(bin!, 'svc'));
	assert.equal(resolveExecutable('other', options), null, 'a directory is not an executable');
});
