import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.ts';

// A unix socket path nobody listens on: the engine is unreachable, as when Docker is stopped.
const unreachable = { DOCKER_HOST: `unix://${path.join(os.tmpdir(), `stigmer-no-engine-${process.pid}.sock`)}` };

function homeWithNative(): string {
	const home = mkdtempSync(path.join(os.tmpdir(), 'stigmer-status-'));
	writeFileSync(path.join(home, 'config.yaml'), 'services:\n  missing-tool:\n    command: [stigmer-test-no-such-tool]\n    optional: true\n');
	return home;
}

test('server status with the engine unreachable: exit 3, the container unknown (JSON)', async () => {
	const home = homeWithNative();
	const r = await runCli(['--home', home, 'server', 'status', '--json'], { env: unreachable });
	assert.equal(r.code, 3, r.stderr);
	const status = JSON.parse(r.stdout) as { engine: { reachable: boolean; endpoint: string }; services: Array<{ name: string; state: string; health: unknown }> };
	assert.equal(status.engine.reachable, false);
	assert.match(status.engine.endpoint, /stigmer-no-engine/);
	const container = status.services.find((s) => s.name === 'agent-runner')!;
	assert.equal(container.state, 'unknown');
	assert.equal(container.health, null);
	// natives need no engine: their rows are still known
	assert.equal(status.services.find((s) => s.name === 'missing-tool')?.state, 'not-installed');
});

test('server status with the engine unreachable: exit 3, the container unknown (table)', async () => {
	const home = homeWithNative();
	const r = await runCli(['--home', home, 'server', 'status'], { env: unreachable });
	assert.equal(r.code, 3, r.stderr);
	const row = r.stdout.split('\n').find((l) => l.startsWith('agent-runner'));
	assert.match(row ?? '', /^agent-runner\s+container\s+unknown\s/);
	assert.match(r.stdout, /engine: unreachable/);
	assert.doesNotMatch(r.stdout, /\bstopped\b/);
});
