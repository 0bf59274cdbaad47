import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type StatsFrame, containerStats, cpuPercent, memoryUsage, networkBytes } from './containerStats.js';

// Shaped like the frames of Docker 20.10 on cgroup v1 (this machine's engine), trimmed.
const cgroupV1: StatsFrame = {
	read: '2026-01-22T10:00:01.123456789Z',
	preread: '2026-01-22T10:00:00.123456666Z',
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
	preread: '2026-01-22T10:00:00Z',
	pids_stats: { current: 4, limit: 18_000 },
	cpu_stats: { cpu_usage: { total_usage: 5_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
	precpu_stats: { cpu_usage: { total_usage: 4_000_000 }, system_cpu_usage: 10_000_000, online_cpus: 2 },
	memory_stats: { usage: 50_000_000, limit: 8_000_000_000, stats: { anon: 30_000_000, file: 15_000_000, inactive_file: 12_000_000, active_file: 3_000_000 } },
	networks: { eth0: { rx_bytes: 10, tx_bytes: 20 } },
};

test('CPU %: cpu delta over the wall-clock window between preread and read, in percent of one core', () => {
	// 250e6 ns of CPU over 1.000000123 s
	assert.equal(cpuPercent(cgroupV1).toFixed(6), ((250e6 / 1_000_000_123) * 100).toFixed(6));
	// 1e6 ns over 1 s: the system delta (10e6 ns) plays no part
	assert.equal(cpuPercent(cgroupV2), 0.1);
	// two busy cores read 200
	assert.equal(cpuPercent({ ...cgroupV2, cpu_stats: { cpu_usage: { total_usage: 2_004_000_000 } } }), 200);
	assert.equal(cpuPercent({ ...cgroupV1, precpu_stats: cgroupV1.cpu_stats! }), 0);
});

test("CPU %: no figure (NaN) for a frame without a window: Docker's first frame, or no times at all", () => {
	assert.ok(Number.isNaN(cpuPercent({ ...cgroupV1, preread: '0001-01-01T00:00:00Z', precpu_stats: {} })));
	assert.ok(Number.isNaN(cpuPercent({ ...cgroupV1, preread: undefined })));
	assert.ok(Number.isNaN(cpuPercent({})));
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
		cpuPercent: cpuPercent(cgroupV1),
		cpuWindowMs: 1000.000123,
		memoryBytes: 190_000_000,
		memoryLimitBytes: 1_073_741_824,
		networkRxBytes: 2_000,
		networkTxBytes: 1_000,
		pids: 9,
	});
	assert.equal(containerStats(cgroupV2).pids, 4);
	assert.equal(containerStats({}, 42).timeMs, 42);
});

// Podman 4.3's frames (recorded on this machine): system_cpu_usage is the root cgroup's cpuacct.usage,
// the host's busy time (here 7.4 s of 10 possible over 5 s), and the first frame's window is 18.6 ms.
const podmanFirstFrame: StatsFrame = {
	read: '2026-12-06T21:35:36.280238378Z',
	preread: '2026-12-06T21:35:36.261595536Z',
	cpu_stats: { cpu_usage: { total_usage: 79_711_037 }, system_cpu_usage: 295_058_676_458, online_cpus: 2 },
	precpu_stats: { cpu_usage: { total_usage: 79_711_037 }, system_cpu_usage: 295_033_147_000, online_cpus: 2 },
};
const podmanLaterFrame: StatsFrame = {
	read: '2026-12-06T21:35:46.287529295Z',
	preread: '2026-12-06T21:35:41.283810916Z',
	cpu_stats: { cpu_usage: { total_usage: 319_877_794 }, system_cpu_usage: 312_406_626_072, online_cpus: 2 },
	precpu_stats: { cpu_usage: { total_usage: 204_242_173 }, system_cpu_usage: 305_031_388_844, online_cpus: 2 },
};

test("CPU %: Podman's frames, against the wall clock and not against its system_cpu_usage (the host's busy time)", () => {
	// the first frame's 18.6 ms window is no measurement
	assert.ok(Number.isNaN(containerStats(podmanFirstFrame).cpuPercent));
	// 115.6 ms of CPU over 5.0037 s = 2.31 % of a core; the docker CLI's formula would say
	// (115.6e6 / 7.375e9) × 2 × 100 = 3.14 % here, and more the quieter the host
	assert.equal(containerStats(podmanLaterFrame).cpuPercent.toFixed(2), '2.31');
});
