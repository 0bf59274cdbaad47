// The kernel's own figures of a container, read on the host from its cgroup: the reference the
// dashboard's CPU and memory are checked against (never `docker stats`, which can be wrong on the
// same engine). Found from the container's main pid (/proc/PID/cgroup), so it works whatever the
// engine names its cgroups: Docker's /docker/ID or system.slice/docker-ID.scope, Podman's
// /libpod_parent/libpod-ID or machine.slice/libpod-ID.scope, a docker-in-docker engine's with
// --cgroupns host. Reads cgroup v1 (cpuacct.usage, memory.usage_in_bytes) and v2 (cpu.stat usage_usec,
// memory.current), from the host's /sys/fs/cgroup; a local engine only.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface CgroupSample {
	/** wall clock, ms since the epoch (with sub-ms precision) */
	atMs: number;
	/** CPU time the cgroup used since it was made, in ns */
	cpuNs: number;
	/** usage minus the page cache that can be reclaimed, as the docker CLI counts it */
	memoryBytes: number;
	/** usage as the kernel counts it, page cache included (memory.usage_in_bytes, memory.current) */
	memoryUsageBytes: number;
}

const root = '/sys/fs/cgroup';

function statValue(text: string, key: string): number | undefined {
	const line = text.split('\n').find((l) => l.startsWith(`${key} `));
	return line ? Number(line.slice(key.length + 1)) : undefined;
}

export class ContainerCgroup {
	private constructor(
		readonly version: 1 | 2,
		/** v1: [cpuacct dir, memory dir]; v2: [dir, dir] */
		private readonly cpuDir: string,
		private readonly memoryDir: string,
	) {}

	/** The cgroup of the process `pid` (a container's State.Pid, a host pid on a local engine). */
	static ofPid(pid: number): ContainerCgroup {
		const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
		const controllers = new Map<string, string>();
		for (const line of lines) {
			const [, names, where] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
			if (names === undefined || where === undefined) continue;
			for (const name of names.split(',')) controllers.set(name, where);
		}
		const cpuacct = controllers.get('cpuacct');
		const memory = controllers.get('memory');
		if (cpuacct !== undefined && memory !== undefined) {
			const cpuDir = ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'].map((m) => path.join(root, m, cpuacct)).find((d) => existsSync(path.join(d, 'cpuacct.usage')));
			const memoryDir = path.join(root, 'memory', memory);
			if (!cpuDir || !existsSync(path.join(memoryDir, 'memory.usage_in_bytes'))) throw new Error(`pid ${pid}: its cgroup v1 directories (${cpuacct}, ${memory}) are not under ${root}`);
			return new ContainerCgroup(1, cpuDir, memoryDir);
		}
		const unified = controllers.get('');
		const dir = unified === undefined ? '' : path.join(root, unified);
		if (!dir || !existsSync(path.join(dir, 'cpu.stat'))) throw new Error(`pid ${pid}: no cgroup v1 cpuacct/memory and no cgroup v2 cpu.stat found (${lines.join('; ')})`);
		return new ContainerCgroup(2, dir, dir);
	}

	/** The v1 memory directory (memory.oom_control, memory.failcnt) or the v2 one (memory.events). */
	get memoryPath(): string {
		return this.memoryDir;
	}

	read(): CgroupSample {
		const atMs = performance.timeOrigin + performance.now();
		if (this.version === 1) {
			const cpuNs = Number(readFileSync(path.join(this.cpuDir, 'cpuacct.usage'), 'utf8'));
			const usage = Number(readFileSync(path.join(this.memoryDir, 'memory.usage_in_bytes'), 'utf8'));
			const inactive = statValue(readFileSync(path.join(this.memoryDir, 'memory.stat'), 'utf8'), 'total_inactive_file') ?? 0;
			return { atMs, cpuNs, memoryBytes: inactive < usage ? usage - inactive : usage, memoryUsageBytes: usage };
		}
		const cpuNs = (statValue(readFileSync(path.join(this.cpuDir, 'cpu.stat'), 'utf8'), 'usage_usec') ?? 0) * 1000;
		const usage = Number(readFileSync(path.join(this.memoryDir, 'memory.current'), 'utf8'));
		const inactive = statValue(readFileSync(path.join(this.memoryDir, 'memory.stat'), 'utf8'), 'inactive_file') ?? 0;
		return { atMs, cpuNs, memoryBytes: inactive < usage ? usage - inactive : usage, memoryUsageBytes: usage };
	}
}

/** Percent of one core between two samples. */
export function cgroupCpuPercent(before: CgroupSample, after: CgroupSample): number {
	return ((after.cpuNs - before.cpuNs) / ((after.atMs - before.atMs) * 1e6)) * 100;
}

/** Samples of `cgroup` every `everyMs` until stop() (which takes one last sample and returns them all). */
export function sampleCgroup(cgroup: ContainerCgroup, everyMs = 50): { samples: CgroupSample[]; stop(): CgroupSample[] } {
	const samples: CgroupSample[] = [cgroup.read()];
	const timer = setInterval(() => samples.push(cgroup.read()), everyMs);
	return {
		samples,
		stop() {
			clearInterval(timer);
			samples.push(cgroup.read());
			return samples;
		},
	};
}

/** The cgroup's CPU counter at `ms`, interpolated between the samples around it (null outside them). */
export function cpuNsAt(samples: CgroupSample[], ms: number): number | null {
	for (let i = 1; i < samples.length; i++) {
		const a = samples[i - 1]!;
		const b = samples[i]!;
		if (a.atMs <= ms && ms <= b.atMs) return b.atMs === a.atMs ? a.cpuNs : a.cpuNs + ((b.cpuNs - a.cpuNs) * (ms - a.atMs)) / (b.atMs - a.atMs);
	}
	return null;
}

/**
 * A load of about half a core for `docker exec -d C bash -c …`: a bash duty cycle, 50 ms busy and 50 ms
 * asleep in `read -t` on a pipe nobody writes to, with no fork per period (a forked `sleep` would make the
 * memory jump by its own pages ten times a second). `stopHalfCoreLoop` ends it (the image has no pkill).
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion, not a template
export const halfCoreLoop = 'exec 9<> <(:); while :; do s=${EPOCHREALTIME/./}; while (( ${EPOCHREALTIME/./} - s < 50000 )); do :; done; read -t 0.05 -u 9; done';
// biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion, not a template
export const stopHalfCoreLoop = 'for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" = "$$" ] || ! grep -q EPOCHREALTIME $p/cmdline 2>/dev/null || kill $n; done; true';

/** A scheduler tick at HZ=100, the coarsest Linux kernel: how late cpuacct may count a running task. */
const tickNs = 10e6;

/**
 * The cgroup's CPU time between `startMs` and `endMs` as the samples bound it: at least what the samples
 * inside the window saw, at most what those around it saw, ± a tick per CPU for the kernel's lazy
 * accounting. Throws when the samples do not cover the window.
 */
export function cpuNsBetween(samples: CgroupSample[], startMs: number, endMs: number, cpus: number): { lower: number; upper: number } {
	const around = (ms: number): [CgroupSample, CgroupSample] => {
		let below: CgroupSample | undefined;
		let above: CgroupSample | undefined;
		for (const s of samples) {
			if (s.atMs <= ms) below = s;
			if (s.atMs >= ms && (above === undefined || s.atMs < above.atMs)) above = s;
		}
		if (!below || !above) throw new Error(`the cgroup samples (${samples[0]?.atMs}–${samples.at(-1)?.atMs}) do not cover ${ms}`);
		return [below, above];
	};
	const [startBelow, startAbove] = around(startMs);
	const [endBelow, endAbove] = around(endMs);
	const slack = 2 * tickNs * cpus;
	return { lower: endBelow.cpuNs - startAbove.cpuNs - slack, upper: endAbove.cpuNs - startBelow.cpuNs + slack };
}
