// What differs between container engines, checked on the engine DOCKER_HOST names (the engine matrix,
// scripts/test-engines.sh, runs this file on Docker 20.10, Podman 4.3, Docker 26.1 and 28.5):
// health never stuck in `starting`, the dashboard's CPU % against the container's cgroup read on this host
// (never `docker stats`: wrong on Podman), and an engine's refusal reported in the engine's words with the fix.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ContainerStats, followContainerStats } from '../../source/engine/containerStats.ts';
import { DockerApi } from '../../source/engine/DockerApi.ts';
import { isPodman } from '../../source/engine/enginePing.ts';
import { firstCheckDueMs } from '../../source/agentRunner/healthFallback.ts';
import { makeTestHome, type TestHome } from '../helpers/cli.ts';
import { ContainerCgroup, cpuNsBetween, sampleCgroup } from '../helpers/containerCgroup.ts';
import { docker } from '../helpers/docker.ts';

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await fn();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
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

	// never against `docker stats`: on Podman it is wrong too (docs/engines.md)
	test("CPU % of the idle runner: the dashboard's stats stream against the container's cgroup over the same windows", async (t) => {
		const id = (await containerRow()).id as string;
		const pid = (JSON.parse((await docker(['inspect', id])).stdout) as Array<{ State: { Pid: number } }>)[0]!.State.Pid;
		const sampler = sampleCgroup(ContainerCgroup.ofPid(pid));
		const frames: ContainerStats[] = [];
		const controller = new AbortController();
		const timer = setTimeout(() => controller.abort(), 60_000);
		await followContainerStats(
			api,
			id,
			(stats) => {
				frames.push(stats);
				if (frames.filter((f) => Number.isFinite(f.cpuPercent)).length >= 3) controller.abort();
			},
			controller.signal,
		);
		clearTimeout(timer);
		await new Promise((resolve) => setTimeout(resolve, 100));
		const samples = sampler.stop();
		const counted = frames.filter((f) => Number.isFinite(f.cpuPercent));
		assert.ok(counted.length >= 3, `${platform}: ${counted.length} frames with a CPU figure in 60 s`);
		const seen: string[] = [];
		for (const f of counted) {
			const ns = (f.cpuPercent / 100) * f.cpuWindowMs * 1e6;
			const { lower, upper } = cpuNsBetween(samples, f.timeMs - f.cpuWindowMs, f.timeMs, os.availableParallelism());
			seen.push(`${f.cpuPercent.toFixed(3)} % in [${((lower / f.cpuWindowMs / 1e6) * 100).toFixed(3)}, ${((upper / f.cpuWindowMs / 1e6) * 100).toFixed(3)}]`);
			// `read` is rounded to the ms: 1 ms of the window
			assert.ok(ns >= lower - 1e6 && ns <= upper + 1e6, `${platform}: the dashboard against the cgroup: ${seen.join(', ')}`);
		}
		t.diagnostic(`${platform} ${api.info?.version}: dashboard % in the cgroup's bounds: ${seen.join(', ')}`);
	});

	test("an engine's refusal: the engine's words and the fix, never 'a bug in stigmer'", async (t) => {
		if (isPodman(api.info)) {
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
		if (!isPodman(api.info) || process.getuid?.() !== 0) {
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
