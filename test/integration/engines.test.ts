// What differs between container engines, checked on the engine DOCKER_HOST names (the engine matrix,
// scripts/test-engines.sh, runs this file on Docker 20.10, Podman 4.3, Docker 26.1 and 28.5):
// health never stuck in `starting`, the dashboard's CPU % against `docker stats` through the same
// socket, and an engine's refusal reported in the engine's words with the fix.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ContainerStats, followContainerStats } from '../../source/engine/containerStats.ts';
import { DockerApi } from '../../source/engine/DockerApi.ts';
import { firstCheckDueMs } from '../../source/engine/healthFallback.ts';
import { makeTestHome, type TestHome } from '../helpers/cli.ts';
import { docker } from '../helpers/docker.ts';

const median = (values: number[]) => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await fn();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

/** The first figure of a new stats stream: what the dashboard shows when it opens. */
async function firstStats(api: DockerApi, id: string): Promise<ContainerStats> {
	const controller = new AbortController();
	let first: ContainerStats | null = null;
	const timer = setTimeout(() => controller.abort(), 30_000);
	await followContainerStats(
		api,
		id,
		(stats) => {
			first ??= stats;
			controller.abort();
		},
		controller.signal,
	);
	clearTimeout(timer);
	assert.ok(first, 'the stats stream sent no frame within 30 s');
	return first;
}

describe('engine parity', { timeout: 600_000 }, () => {
	let home: TestHome;
	let api: DockerApi;
	let platform = '';
	before(async () => {
		home = await makeTestHome('stigmer-engines-');
		api = await DockerApi.connect(process.env, 30_000);
		platform = api.info?.platform ?? '';
		const r = await home.cli(['server', 'start']);
		assert.equal(r.code, 0, r.stderr);
	});
	after(async () => {
		api?.close();
		await home?.cleanup();
	});

	const containerRow = async () => {
		const r = await home.cli(['server', 'status', '--json']);
		assert.equal(r.code, 0, r.stderr);
		return (JSON.parse(r.stdout) as { services: Array<Record<string, any>> }).services.find((s) => s.name === 'agent-runner')!;
	};

	test("health leaves `starting`: from the engine's checks, or from our readiness probe when it runs none", async () => {
		const id = (await containerRow()).id as string;
		const inspect = (JSON.parse((await docker(['inspect', id])).stdout) as any[])[0];
		// due: the first check's interval and timeout, plus a margin; then 30 s for a slow machine
		const row = await until('health other than starting', async () => ((await containerRow()).health !== 'starting' ? containerRow() : null), firstCheckDueMs(inspect) + 30_000);
		assert.equal(row.health, 'healthy', `${platform}: ${JSON.stringify(row)}`);
	});

	test("CPU % of the idle runner: the dashboard's stats stream against `docker stats --no-stream` through the same socket, 10 samples", async (t) => {
		const id = (await containerRow()).id as string;
		const differences: string[] = [];
		const deltas: number[] = [];
		for (let i = 0; i < 10; i++) {
			const ours = (await firstStats(api, id)).cpuPercent;
			const theirs = Number.parseFloat((await docker(['stats', '--no-stream', '--format', '{{.CPUPerc}}', id])).stdout);
			assert.ok(Number.isFinite(theirs), 'docker stats printed a CPU %');
			deltas.push(Math.abs(ours - theirs));
			differences.push(`${ours.toFixed(2)} vs ${theirs.toFixed(2)}`);
		}
		t.diagnostic(`${platform} ${api.info?.version}: median difference ${median(deltas).toFixed(2)} points; ours vs docker stats: ${differences.join(', ')}`);
		assert.ok(median(deltas) <= 1, `${platform}: median difference ${median(deltas).toFixed(2)} points (ours vs docker stats: ${differences.join(', ')})`);
	});

	test("an engine's refusal: the engine's words and the fix, never 'a bug in stigmer'", async (t) => {
		if (/podman/i.test(platform)) {
			t.skip('Podman accepts more CPUs than the host has (its refusal is the next test)');
			return;
		}
		const refused = await makeTestHome('stigmer-engines-');
		try {
			refused.writeConfig(`agentRunner:\n  port: ${refused.port}\n  cpus: 1024\nservices: {}\n`);
			const r = await refused.cli(['server', 'start']);
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /the container engine said: range of CPUs is from/i);
			assert.match(r.stderr, /fix: set agentRunner\.cpus/);
			assert.doesNotMatch(r.stderr, /bug in stigmer/);
		} finally {
			await refused.cleanup();
		}
	});

	test('Podman without its --init binary (catatonit): the fix, never "a bug in stigmer"', async (t) => {
		if (!/podman/i.test(platform) || process.getuid?.() !== 0) {
			t.skip('a second Podman service, run as root');
			return;
		}
		// A second service over the same storage, in a mount namespace of its own where Podman's --init
		// binary is missing (a tmpfs over /usr/libexec/podman): what a machine without catatonit answers.
		const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-podman-noinit-'));
		const socket = path.join(dir, 'podman.sock');
		let service: ChildProcess | null = null;
		const refused = await makeTestHome('stigmer-engines-');
		const env = { DOCKER_HOST: `unix://${socket}` };
		try {
			const serve = `mount -t tmpfs none /usr/libexec/podman && exec podman system service --time=0 unix://${socket}`;
			service = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', serve], { stdio: 'ignore' });
			await until('the second Podman service', async () => (await docker(['version'], { allowFailure: true, env: { ...process.env, ...env } })).code === 0, 30_000);
			const r = await refused.cli(['server', 'start'], { env });
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /Podman needs catatonit/);
			assert.match(r.stderr, /apt-get install catatonit/);
			assert.match(r.stderr, /container-init binary not found/);
			assert.doesNotMatch(r.stderr, /bug in stigmer/);
		} finally {
			await refused.cli(['server', 'stop'], { env }).catch(() => undefined);
			service?.kill('SIGTERM');
			await refused.cleanup();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
