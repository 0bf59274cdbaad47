// Container resource figures from the engine's stats stream. Memory is computed as the docker CLI does
// (docker/cli cli/command/container/stats_helpers.go); CPU is the container's cgroup counter over the
// engine's own sampling times (statsWindow.ts says why not the CLI's formula: Podman's
// system_cpu_usage is the host's busy time, not wall time). Both agree with the container's cgroup read
// on the host (test/integration/containerStats.test.ts checks that on every engine).
import type { Readable } from 'node:stream';
import { type DockerApi, abortable } from './DockerApi.js';
import { cpuWindowNs } from './statsWindow.js';
import { jsonLines } from './streams.js';

/** The fields of a /containers/{id}/stats frame that the figures need (cgroup v1 and v2 engines). */
export interface StatsFrame {
	read?: string;
	/** when precpu_stats were sampled (Docker's first frame: 0001-01-01; Podman's: milliseconds before `read`) */
	preread?: string;
	cpu_stats?: CpuStats;
	precpu_stats?: CpuStats;
	memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
	networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
	pids_stats?: { current?: number; limit?: number };
}

interface CpuStats {
	cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
	system_cpu_usage?: number;
	online_cpus?: number;
}

export interface ContainerStats {
	timeMs: number;
	/** percent of one core over the frame's window; NaN for a frame without one (a stream's first) */
	cpuPercent: number;
	/** that window (the frame's read − preread), in ms; NaN when it has none */
	cpuWindowMs: number;
	memoryBytes: number;
	memoryLimitBytes: number;
	networkRxBytes: number;
	networkTxBytes: number;
	pids: number;
}

/**
 * Percent of ONE core over the frame's window: cpu delta / wall-clock window × 100 (200 = two cores busy).
 * NaN when the frame has no window (a stream's first frame): no figure rather than a wrong one.
 */
export function cpuPercent(frame: StatsFrame): number {
	const windowNs = cpuWindowNs(frame);
	if (windowNs === null) return Number.NaN;
	const cpuDelta = (frame.cpu_stats?.cpu_usage?.total_usage ?? 0) - (frame.precpu_stats?.cpu_usage?.total_usage ?? 0);
	return cpuDelta > 0 ? (cpuDelta / windowNs) * 100 : 0;
}

/**
 * Usage without the page cache that can be reclaimed: − total_inactive_file (cgroup v1) or − inactive_file
 * (v2). Podman 4.3 sends `usage` alone (no `stats`): its figure keeps that cache (at most a few MB for
 * the runner; the kernel's memory.usage_in_bytes as it is).
 */
export function memoryUsage(frame: StatsFrame): number {
	const memory = frame.memory_stats;
	const usage = memory?.usage ?? 0;
	const stats = memory?.stats ?? {};
	const v1 = stats.total_inactive_file;
	if (v1 !== undefined) {
		if (v1 < usage) return usage - v1;
	} else {
		const v2 = stats.inactive_file;
		if (v2 !== undefined && v2 < usage) return usage - v2;
	}
	return usage;
}

export function networkBytes(frame: StatsFrame): { rx: number; tx: number } {
	let rx = 0;
	let tx = 0;
	for (const network of Object.values(frame.networks ?? {})) {
		rx += network.rx_bytes ?? 0;
		tx += network.tx_bytes ?? 0;
	}
	return { rx, tx };
}

export function containerStats(frame: StatsFrame, nowMs = Date.now()): ContainerStats {
	const { rx, tx } = networkBytes(frame);
	const read = frame.read ? Date.parse(frame.read) : Number.NaN;
	return {
		timeMs: Number.isFinite(read) && read > 0 ? read : nowMs,
		cpuPercent: cpuPercent(frame),
		cpuWindowMs: (cpuWindowNs(frame) ?? Number.NaN) / 1e6,
		memoryBytes: memoryUsage(frame),
		memoryLimitBytes: frame.memory_stats?.limit ?? 0,
		networkRxBytes: rx,
		networkTxBytes: tx,
		pids: frame.pids_stats?.current ?? 0,
	};
}

/**
 * Follows ONE stats stream of a running container (the engine sends a frame about every second) until
 * the container stops, the engine goes away or `signal` aborts. Resolves when the stream ends; never
 * throws for an abort.
 */
export async function followContainerStats(api: DockerApi, id: string, onStats: (stats: ContainerStats) => void, signal: AbortSignal): Promise<void> {
	let response: Readable;
	try {
		const stream = await api.docker.getContainer(id).stats({ stream: true, abortSignal: signal } as { stream: true });
		response = abortable(stream as unknown as Readable, signal);
	} catch (error) {
		if (signal.aborted) return;
		throw error;
	}
	try {
		for await (const frame of jsonLines<StatsFrame>(response)) {
			if (signal.aborted) break;
			// a stopped container's stream sends empty frames: they are not figures
			if (!frame.read || frame.read.startsWith('0001-')) continue;
			onStats(containerStats(frame));
		}
	} catch (error) {
		if (!signal.aborted) throw error;
	} finally {
		response.destroy();
	}
}
