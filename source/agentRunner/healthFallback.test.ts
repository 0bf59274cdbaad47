import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { engineInfoFromPing } from '../engine/enginePing.ts';
import { type HealthInspect, engineRunsNoHealthChecks, firstCheckDueMs, healthRecheckMs, withHealthFallback } from './healthFallback.ts';
import type { ServiceStatus } from '../serviceStatus.ts';

const started = Date.parse('2026-11-30T10:00:00Z');
// as Podman 4.3 reports a container with the image's HEALTHCHECK and no systemd timer to run it
const podmanInspect = (log: unknown[] | null = null, status = 'starting'): HealthInspect => ({
	State: { Running: true, StartedAt: '2026-11-30T10:00:00.000Z', Health: { Status: status, Log: log } },
	Config: { Healthcheck: { Interval: 5e9, Timeout: 3e9 } },
});

test("the first check is due after the image's interval and timeout, plus a margin", () => {
	assert.equal(firstCheckDueMs(podmanInspect()), 10_000);
	assert.equal(firstCheckDueMs({ ...podmanInspect(), Config: {} }), 62_000, "Docker's defaults: 30 s + 30 s");
});

test('an engine with no check on record after the first was due runs none; one with a record, or before, does', () => {
	assert.equal(engineRunsNoHealthChecks(podmanInspect(), started + 9_000), false);
	assert.equal(engineRunsNoHealthChecks(podmanInspect(), started + 10_000), true);
	assert.equal(engineRunsNoHealthChecks(podmanInspect([{ ExitCode: 0, Output: '' }]), started + 60_000), false);
	assert.equal(engineRunsNoHealthChecks(podmanInspect(null, 'healthy'), started + 60_000), false);
	assert.equal(engineRunsNoHealthChecks({ ...podmanInspect(), State: { ...podmanInspect().State, Running: false } }, started + 60_000), false);
});

test("while the engine says starting, the health is our readiness probe's: /readyz 200 healthy; else starting, or unhealthy once the engine's check was due", async () => {
	let status = 200;
	const server = createServer((req, res) => {
		res.writeHead(req.url === '/readyz' ? status : 404).end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const row: ServiceStatus = { name: 'agent-runner', kind: 'container', state: 'running', health: 'starting', endpoint };
	try {
		// before the engine's first check (Docker 20.10's first comes one 30 s interval after the start)
		assert.equal((await withHealthFallback(row, podmanInspect(), started + 1_000)).health, 'healthy', 'server start said ready: status agrees');
		assert.equal((await withHealthFallback(row, podmanInspect(), started + 11_000)).health, 'healthy');
		status = 503;
		assert.equal((await withHealthFallback(row, podmanInspect(), started + 1_000)).health, 'starting', 'not ready, not due: still starting');
		assert.equal((await withHealthFallback(row, podmanInspect(), started + 11_000)).health, 'unhealthy', 'the engine runs no checks');
		// the engine's own verdict stands
		status = 200;
		const unhealthy = { ...row, health: 'unhealthy' as const };
		assert.equal((await withHealthFallback(unhealthy, podmanInspect(null, 'unhealthy'), started + 1_000)).health, 'unhealthy');
	} finally {
		server.close();
	}
});

test('the dashboard looks again while health reads starting: every 0.5 s while the service starts, then at the due time or every 5 s', () => {
	assert.equal(healthRecheckMs(podmanInspect(), started + 1_000), 500);
	assert.equal(healthRecheckMs(podmanInspect(), started + 1_000, 'healthy'), 5000, 'the probe answered: at the pace of an idle dashboard');
	assert.equal(healthRecheckMs(podmanInspect(), started + 8_000, 'healthy'), 2_050);
	assert.equal(healthRecheckMs(podmanInspect(), started + 60_000), 5000);
	assert.equal(healthRecheckMs(podmanInspect(null, 'healthy'), started + 60_000), null);
	assert.equal(healthRecheckMs(null), null);
});

test("/_ping's headers name the engine: Docker and Podman; without them, null", () => {
	assert.deepEqual(engineInfoFromPing({ 'api-version': '1.51', server: 'Docker/28.5.2+dfsg4 (linux)', ostype: 'linux' }, 'unix:///d.sock'), {
		endpoint: 'unix:///d.sock',
		version: '28.5.2+dfsg4',
		apiVersion: '1.51',
		os: 'linux',
		arch: '',
		platform: 'Docker Engine',
	});
	const podman = engineInfoFromPing({ 'api-version': '1.41', 'libpod-api-version': '4.3.1', server: 'Libpod/4.3.1 (linux)' }, 'unix:///p.sock')!;
	assert.equal(podman.platform, 'Podman Engine');
	assert.equal(podman.version, '4.3.1');
	assert.equal(engineInfoFromPing({ server: 'Docker/20.10.24 (linux)' }, 'x'), null);
	assert.equal(engineInfoFromPing({ 'api-version': '1.41', server: 'nginx' }, 'x'), null);
});
