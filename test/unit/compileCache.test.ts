import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { compileCacheDir } from '../../source/compileCache.ts';
import { repoRoot, runCli } from '../helpers/cli.ts';

const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'stigmer-compile-cache-'));
const noEngine = { DOCKER_HOST: 'unix:///tmp/stigmer-no-engine.sock' };

test("the compile cache lives in the user's own cache directory", () => {
	assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), '/x/cache/stigmer/node-compile-cache');
	assert.equal(compileCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.cache/stigmer/node-compile-cache', 'a relative XDG_CACHE_HOME is ignored, as the spec says');
	assert.equal(compileCacheDir({ HOME: '/home/u' }), '/home/u/.cache/stigmer/node-compile-cache');
	assert.equal(compileCacheDir({}), null, 'no home, no cache');
});

test('the first run writes the cache; a cache directory that cannot be made or written never breaks the CLI', async () => {
	const cache = scratch();
	const first = await runCli(['--version'], { env: { XDG_CACHE_HOME: cache } });
	assert.equal(first.code, 0, first.stderr);
	assert.equal(first.stderr, '');
	const made = path.join(cache, 'stigmer', 'node-compile-cache');
	assert.ok(existsSync(made) && readdirSync(made).length > 0, 'the first run made the cache');

	// a file where the directory would be, and no home at all
	const file = path.join(scratch(), 'not-a-directory');
	writeFileSync(file, '');
	const home = scratch();
	writeFileSync(path.join(home, 'config.yaml'), 'services: {}\n');
	for (const env of [{ XDG_CACHE_HOME: file }, { XDG_CACHE_HOME: '', HOME: '' }]) {
		const version = await runCli(['--version'], { env });
		assert.equal(version.code, 0, version.stderr);
		assert.equal(version.stderr, '', `no warning with ${JSON.stringify(env)}`);
		const status = await runCli(['--home', home, 'server', 'status', '--json'], { env: { ...env, ...noEngine } });
		assert.equal(status.code, 3, status.stderr);
		assert.equal(JSON.parse(status.stdout).engine.reachable, false);
	}
});

test("a cache directory that belongs to another user is not used (that user's code is never run)", { skip: process.getuid?.() !== 0 && 'needs root to give a directory away' }, () => {
	const cache = scratch();
	const dir = path.join(cache, 'stigmer', 'node-compile-cache');
	mkdirSync(dir, { recursive: true });
	chownSync(dir, 65534, 65534);
	const r = spawnSync(
		process.execPath,
		['--import', 'tsx', '--input-type=module', '-e', "const { enableCompileCache } = await import('./source/compileCache.ts'); console.log(JSON.stringify(enableCompileCache()));"],
		{ cwd: repoRoot, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache, NODE_COMPILE_CACHE: '', NODE_DISABLE_COMPILE_CACHE: '' } },
	);
	assert.equal(r.status, 0, r.stderr);
	const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
	assert.equal(result.status, 'off');
	assert.match(result.message, /belongs to uid 65534/);
	assert.deepEqual(readdirSync(dir), [], 'nothing written there');
});
