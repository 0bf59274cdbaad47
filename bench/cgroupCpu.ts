// Figures of issue 21 for the idle agent-runner, on the engine DOCKER_HOST names (a local engine: the
// container's cgroup is read on this host, test/helpers/containerCgroup.ts):
//   `server start` → ready (the command returns) and → `healthy` in `server status --json` (polled
//     right after), medians of --runs; whether the first status after start already said healthy
//   the idle runner's CPU over --seconds (default 60), health checks included, from its cgroup's
//     counter (cpuacct.usage / cpu.stat usage_usec) — on a shared machine the only honest figure: other
//     people's load does not add to a container's own counter; and its peak memory over that time
// Usage: npx tsc -p . && npx tsx bench/cgroupCpu.ts [--runs N] [--seconds N]
// (docker-in-docker engines: inside their network namespace, as scripts/engines/env.sh prints)
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { makeTestHome } from '../test/helpers/cli.js';
import { cgroupCpuPercent, ContainerCgroup } from '../test/helpers/containerCgroup.js';
import { dockerInspect } from '../test/helpers/docker.js';
import { median } from './benchStats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '60' } } });
const runs = Number(values.runs);
const seconds = Number(values.seconds);

export interface IdleFigures {
	startMs: number;
	healthyMs: number;
	firstStatusHealthy: string;
	idleCpuPercent: number;
	idleMemoryMiB: number;
	engineHealth: string;
}

export async function measureIdleRunner(): Promise<IdleFigures> {
	const home = await makeTestHome('stigmer-bench-idle-');
	const cli = async (args: string[]) => {
		const r = await home.cli(args, { timeoutMs: 300_000 });
		if (r.code !== 0) throw new Error(`stigmer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
		return r;
	};
	try {
		await cli(['server', 'start']); // warms the engine's caches
		await cli(['server', 'stop']);
		const start: number[] = [];
		const healthy: number[] = [];
		let firstHealthy = 0;
		for (let i = 0; i < runs; i++) {
			const t0 = performance.now();
			await cli(['server', 'start']);
			start.push(performance.now() - t0);
			for (let polls = 0; polls < 600; polls++) {
				const status = JSON.parse((await cli(['server', 'status', '--json'])).stdout) as { services: Array<{ health: string | null }> };
				if (status.services[0]?.health === 'healthy') {
					healthy.push(performance.now() - t0);
					if (polls === 0) firstHealthy++;
					break;
				}
			}
			if (i < runs - 1) await cli(['server', 'stop']);
		}
		const status = JSON.parse((await cli(['server', 'status', '--json'])).stdout) as { services: Array<{ id: string }> };
		const inspect = await dockerInspect<{ State: { Pid: number; Health?: { Status: string } } }>(status.services[0]!.id);
		const cgroup = ContainerCgroup.ofPid(inspect!.State.Pid);
		await sleep(5000); // past the start's own work
		const before = cgroup.read();
		let peak = before.memoryBytes;
		for (let waited = 0; waited < seconds * 1000; waited += 1000) {
			await sleep(1000);
			peak = Math.max(peak, cgroup.read().memoryBytes);
		}
		const after = cgroup.read();
		const engineHealth = (await dockerInspect<{ State: { Health?: { Status: string } } }>(status.services[0]!.id))?.State.Health?.Status ?? 'none';
		return {
			startMs: median(start),
			healthyMs: median(healthy),
			firstStatusHealthy: `${firstHealthy}/${runs}`,
			idleCpuPercent: cgroupCpuPercent(before, after),
			idleMemoryMiB: peak / 2 ** 20,
			engineHealth,
		};
	} finally {
		await home.cleanup();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const f = await measureIdleRunner();
	console.log(`server start → ready ${(f.startMs / 1000).toFixed(2)} s; → healthy in status ${(f.healthyMs / 1000).toFixed(2)} s (${(f.healthyMs / f.startMs).toFixed(2)}×; goal ≤ 1.2×)`);
	console.log(`first status after start said healthy: ${f.firstStatusHealthy}; the engine's own health after ${seconds} s idle: ${f.engineHealth}`);
	console.log(`idle runner CPU over ${seconds} s (its cgroup): ${f.idleCpuPercent.toFixed(3)} % of a core (goal ≤ 0.2 %); peak memory ${f.idleMemoryMiB.toFixed(1)} MiB (goal ≤ 45 MiB)`);
	console.log(JSON.stringify(f));
}
