// Container resource figures from the engine's stats stream, computed as the docker CLI does
// (docker/cli cli/command/container/stats_helpers.go), so the dashboard agrees with `docker stats`.
import type { Readable } from 'node:stream';
import { type DockerApi, abortable } from './DockerApi.js';
import { withUsableCpuWindow } from './statsWindow.js';
import { jsonLines } from './streams.js';

/** The fields of a /containers/{id}/stats frame that the figures need (cgroup v1 and v2 engines). */
export interface StatsFrame {
	read?: string;
	/** when precpu_stats were sampled (Podman's first frame: milliseconds before `read`; see statsWindow.ts) */
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
	cpuPercent: number;
	memoryBytes: number;
	memoryLimitBytes: number;
	networkRxBytes: number;
	networkTxBytes: number;
	pids: number;
}

/** (cpu delta / system delta) × online CPUs × 100; 0 when either delta is not positive (the first frame). */
export function cpuPercent(frame: StatsFrame): number {
	const cpu = frame.cpu_stats;
	const pre = frame.precpu_stats;
	const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
	const systemDelta = (cpu?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
	let online = cpu?.online_cpus ?? 0;
	if (online === 0) online = cpu?.cpu_usage?.percpu_usage?.length ?? 0;
	if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
	return 0;
}

/** Usage without the page cache that can be reclaimed: − total_inactive_file (cgroup v1) or − inactive_file (v2). */
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
		cpuPercent: cpuPercent(withUsableCpuWindow(frame)),
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
