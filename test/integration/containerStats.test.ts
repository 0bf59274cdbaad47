// The dashboard's CPU and memory of a container (followContainerStats: the stream the dashboard reads)
// against the kernel: the container's cgroup read on the host every 50 ms over the same window. Idle,
// and with a busy loop at about half a core. The bound is the measurement's own error: the cgroup is
// read at the samples around the engine's sampling times (the frames' preread and read), so the true
// value lies between what those samples allow, plus one scheduler tick per CPU for the kernel's lazy
// accounting of a running task. Never against `docker stats` (on Podman that is wrong too).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import os from 'node:os';
import { type ContainerStats, followContainerStats } from '../../source/engine/containerStats.js';
import { DockerApi } from '../../source/engine/DockerApi.js';
import { type CgroupSample, ContainerCgroup, cgroupCpuPercent, cpuNsAt, cpuNsBetween, halfCoreLoop, sampleCgroup } from '../helpers/containerCgroup.js';
import { docker, dockerInspect, removeContainersByLabel, uniqueName } from '../helpers/docker.js';
import { engineKind } from '../helpers/engineKind.js';

const label = `ai.stigmer.test=container-stats-${process.pid}`;
const remote = (process.env.STIGMER_TEST_ENGINE ?? '').startsWith('remote');
const skip = remote && 'the cgroup is read on the engine host; a remote engine is not this machine';
const sampleMs = 50;

let api: DockerApi;
let name: string;
let cgroup: ContainerCgroup;

before(async () => {
	if (skip) return;
	api = await DockerApi.connect(process.env, 30_000);
	name = uniqueName('stigmer-stats');
	await docker(['run', '-d', '--label', label, '--name', name, 'debian:trixie-slim', 'sleep', 'infinity']);
	const inspect = await dockerInspect<{ State: { Pid: number } }>(name);
	cgroup = ContainerCgroup.ofPid(inspect!.State.Pid);
});

after(async () => {
	if (skip) return;
	await removeContainersByLabel(label);
	api.close();
});

interface Frame extends ContainerStats {
	readMs: number;
	prereadMs: number;
}

/** The stream's frames and the cgroup's samples until the frames with a figure cover `windowMs`. */
async function measure(windowMs: number): Promise<{ frames: Frame[]; samples: CgroupSample[] }> {
	const sampler = sampleCgroup(cgroup, sampleMs);
	const frames: Frame[] = [];
	const controller = new AbortController();
	const deadline = setTimeout(() => controller.abort(), windowMs + 60_000);
	const id = (await dockerInspect<{ Id: string }>(name))!.Id;
	try {
		await followContainerStats(
			api,
			id,
			(stats) => {
				frames.push({ ...stats, readMs: stats.timeMs, prereadMs: stats.timeMs - stats.cpuWindowMs });
				const counted = frames.filter((f) => Number.isFinite(f.cpuPercent));
				if (counted.length >= 2 && counted.at(-1)!.readMs - counted[0]!.prereadMs >= windowMs) controller.abort();
			},
			controller.signal,
		);
	} finally {
		clearTimeout(deadline);
		// one more sample after the last frame's read time
		await new Promise((r) => setTimeout(r, sampleMs * 2));
	}
	return { frames, samples: sampler.stop() };
}

/** How long an engine may take between reading a container's cgroup and stamping the frame's `read`. */
const engineStampLagMs = 25;

function checkCpu(frames: Frame[], samples: CgroupSample[], what: string): { dashboard: number; cgroup: number } {
	const counted = frames.filter((f) => Number.isFinite(f.cpuPercent));
	assert.ok(counted.length >= 2, `${what}: fewer than two frames with a CPU figure (${frames.length} frames)`);
	const start = counted[0]!.prereadMs;
	const end = counted.at(-1)!.readMs;
	// the dashboard's CPU time over the window: each figure × its window (they chain: preread = previous read)
	const dashboardNs = counted.reduce((sum, f) => sum + (f.cpuPercent / 100) * (f.readMs - f.prereadMs) * 1e6, 0);
	const bracket = cpuNsBetween(samples, start, end, os.availableParallelism());
	// the ms rounding of `read`, and the engine's own lag between reading the cgroup and stamping `read`
	// (up to engineStampLagMs at each end of the window; within a window the frames chain, so it does not
	// add up): Docker 28.5 in a container under CI's load said 32.322 % where the bracket ended at 32.292 %
	const lagNs = (dashboardNs / (end - start)) * 2 * engineStampLagMs;
	const lower = bracket.lower - 0.002 * dashboardNs - lagNs;
	const upper = bracket.upper + 0.002 * dashboardNs + lagNs;
	const seconds = (end - start) / 1000;
	const dashboard = dashboardNs / 1e7 / seconds;
	const kernel = (cpuNsAt(samples, end)! - cpuNsAt(samples, start)!) / 1e7 / seconds;
	assert.ok(
		dashboardNs >= lower && dashboardNs <= upper,
		`${what}: the dashboard says ${dashboard.toFixed(3)} % of a core over ${seconds.toFixed(1)} s, the cgroup ${kernel.toFixed(3)} % (allowed ${(lower / 1e7 / seconds).toFixed(3)}–${(upper / 1e7 / seconds).toFixed(3)} %)`,
	);
	return { dashboard, cgroup: kernel };
}

// Podman 4.3 sends memory_stats.usage alone (no memory.stat), so the reclaimable page cache cannot be
// taken off: its figure is the cgroup's usage as it is (docs/engines.md).
const memoryWithCache = !skip && (await engineKind()).podman;

function checkMemory(frames: Frame[], samples: CgroupSample[], what: string): void {
	for (const f of frames) {
		// the cgroup's own variation around the frame's sampling time is the measurement's error
		const near = samples.filter((s) => Math.abs(s.atMs - f.readMs) <= 2 * sampleMs).map((s) => (memoryWithCache ? s.memoryUsageBytes : s.memoryBytes));
		if (near.length === 0) continue;
		const low = Math.min(...near) - 64 * 1024;
		const high = Math.max(...near) + 64 * 1024;
		assert.ok(f.memoryBytes >= low && f.memoryBytes <= high, `${what}: the dashboard says ${f.memoryBytes} B of memory at ${f.readMs}, the cgroup ${Math.min(...near)}–${Math.max(...near)} B`);
	}
}

test('idle: the dashboard CPU and memory of a container are its cgroup’s over the same window', { skip }, async (t) => {
	const { frames, samples } = await measure(8000);
	const cpu = checkCpu(frames, samples, 'idle');
	t.diagnostic(`idle: dashboard ${cpu.dashboard.toFixed(3)} %, cgroup ${cpu.cgroup.toFixed(3)} % of a core`);
	assert.ok(cpu.cgroup < 5, `an idle container used ${cpu.cgroup.toFixed(2)} % of a core`);
	checkMemory(frames, samples, 'idle');
});

test('at about half a core: the dashboard CPU is the cgroup’s over the same window', { skip }, async (t) => {
	await docker(['exec', '-d', name, 'bash', '-c', halfCoreLoop]);
	// measured once it runs (an engine may start a detached exec a moment later)
	for (let tries = 0; tries < 50; tries++) {
		const first = cgroup.read();
		await new Promise((r) => setTimeout(r, 200));
		if (cgroupCpuPercent(first, cgroup.read()) > 2) break;
	}
	const { frames, samples } = await measure(8000);
	const cpu = checkCpu(frames, samples, 'load');
	t.diagnostic(`load: dashboard ${cpu.dashboard.toFixed(2)} %, cgroup ${cpu.cgroup.toFixed(2)} % of a core`);
	// on a loaded machine the loop gets what is left (9 % of a core at a load of 10 on 2 cores): any is a load
	assert.ok(cpu.cgroup > 2, `the busy loop used only ${cpu.cgroup.toFixed(1)} % of a core: no load to measure`);
	checkMemory(frames, samples, 'load');
});
