import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type StatsFrame, containerStats, cpuPercent, memoryUsage, networkBytes } from './containerStats.js';

// Shaped like the frames of Docker 20.10 on cgroup v1 (this machine's engine), trimmed.
const cgroupV1: StatsFrame = {
	read: '2026-01-22T10:00:01.123456789Z',
	pids_stats: { current: 9 },
	cpu_stats: {
		cpu_usage: { total_usage: 2_350_000_000, percpu_usage: [1_200_000_000, 1_150_000_000, 0, 0] },
		system_cpu_usage: 98_000_000_000,
		online_cpus: 4,
	},
	precpu_stats: {
		cpu_usage: { total_usage: 2_100_000_000, percpu_usage: [1_100_000_000, 1_000_000_000, 0, 0] },
		system_cpu_usage: 94_000_000_000,
		online_cpus: 4,
	},
	memory_stats: {
		usage: 220_000_000,
		limit: 1_073_741_824,
		stats: { cache: 40_000_000, rss: 150_000_000, total_inactive_file: 30_000_000, inactive_file: 30_000_000, total_rss: 150_000_000 },
	},
	networks: { eth0: { rx_bytes: 1_500, tx_bytes: 700 }, eth1: { rx_bytes: 500, tx_bytes: 300 } },
};

// Docker 23+ on cgroup v2: no total_* keys, no percpu_usage.
const cgroupV2: StatsFrame = {
	read: '2026-01-22T10:00:01Z',
	pids_stats: { current: 4, limit: 18_000 },
	cpu_stats: { cpu_usage: { total_usage: 5_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
	precpu_stats: { cpu_usage: { total_usage: 4_000_000 }, system_cpu_usage: 10_000_000, online_cpus: 2 },
	memory_stats: { usage: 50_000_000, limit: 8_000_000_000, stats: { anon: 30_000_000, file: 15_000_000, inactive_file: 12_000_000, active_file: 3_000_000 } },
	networks: { eth0: { rx_bytes: 10, tx_bytes: 20 } },
};

test('CPU %: cpu delta / system delta × online CPUs × 100', () => {
	// (250e6 / 4e9) × 4 × 100 = 25
	assert.equal(cpuPercent(cgroupV1), 25);
	// (1e6 / 10e6) × 2 × 100 = 20
	assert.equal(cpuPercent(cgroupV2), 20);
});

test('CPU %: online CPUs fall back to the per-CPU list; no delta gives 0', () => {
	const noOnline = structuredClone(cgroupV1);
	delete noOnline.cpu_stats!.online_cpus;
	assert.equal(cpuPercent(noOnline), 25);
	// the first frame of a stream has an empty precpu_stats
	assert.equal(cpuPercent({ ...cgroupV1, precpu_stats: {} }), (2_350_000_000 / 98_000_000_000) * 4 * 100);
	assert.equal(cpuPercent({ ...cgroupV1, precpu_stats: cgroupV1.cpu_stats! }), 0);
	assert.equal(cpuPercent({}), 0);
});

test('memory: usage − total_inactive_file on cgroup v1, − inactive_file on v2', () => {
	assert.equal(memoryUsage(cgroupV1), 190_000_000);
	assert.equal(memoryUsage(cgroupV2), 38_000_000);
	// v1 wins when both are present and is ignored when larger than usage
	assert.equal(memoryUsage({ memory_stats: { usage: 100, stats: { total_inactive_file: 10, inactive_file: 50 } } }), 90);
	assert.equal(memoryUsage({ memory_stats: { usage: 100, stats: { total_inactive_file: 200 } } }), 100);
	assert.equal(memoryUsage({ memory_stats: { usage: 100 } }), 100);
});

test('network: summed over interfaces', () => {
	assert.deepEqual(networkBytes(cgroupV1), { rx: 2_000, tx: 1_000 });
	assert.deepEqual(networkBytes({}), { rx: 0, tx: 0 });
});

test('a whole frame', () => {
	assert.deepEqual(containerStats(cgroupV1), {
		timeMs: Date.parse('2026-01-22T10:00:01.123Z'),
		cpuPercent: 25,
		memoryBytes: 190_000_000,
		memoryLimitBytes: 1_073_741_824,
		networkRxBytes: 2_000,
		networkTxBytes: 1_000,
		pids: 9,
	});
	assert.equal(containerStats(cgroupV2).pids, 4);
	assert.equal(containerStats({}, 42).timeMs, 42);
});

// Podman 4.3's first frame of a stream (recorded, with a 1 ms burst of the container in the window):
// its precpu_stats were sampled 9.8 ms before, so the deltas cover one or two of /proc/stat's ticks.
const podmanFirstFrame = {
	read: '2026-11-30T10:36:04.434934036Z',
	preread: '2026-11-30T10:36:04.425121381Z',
	cpu_stats: { cpu_usage: { total_usage: 524_329_815 }, system_cpu_usage: 736_017_096_657, online_cpus: 2 },
	precpu_stats: { cpu_usage: { total_usage: 523_329_815 }, system_cpu_usage: 735_999_268_050, online_cpus: 2 },
};

test("CPU %: a frame whose precpu window is milliseconds long (Podman's first) reads as Docker's first frame does", () => {
	// over the 9.8 ms window it would read (1e6 / 17.8e6) × 2 × 100 = 11.2 % for an idle runner
	assert.ok(cpuPercent(podmanFirstFrame) > 10);
	// read as `docker stats --no-stream` reads Podman's one frame: the share since the host booted
	assert.equal(containerStats(podmanFirstFrame).cpuPercent.toFixed(3), ((524_329_815 / 736_017_096_657) * 2 * 100).toFixed(3));
	// Podman's later frames are 5 s apart and count as they are
	const later = { ...podmanFirstFrame, read: '2026-11-30T10:36:09.456780492Z', preread: '2026-11-30T10:36:04.434934036Z' };
	assert.equal(containerStats(later).cpuPercent, cpuPercent(later));
	// Docker's first frame (zero preread) is left as it is
	assert.equal(containerStats({ ...podmanFirstFrame, preread: '0001-01-01T00:00:00Z' }).cpuPercent, cpuPercent(podmanFirstFrame));
});
