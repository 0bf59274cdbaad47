// Figures of issue 20 for the budgets per execution (docs/security.md), against the real agent-runner
// container and the fake model, with the default disk budget (1 GiB):
//   1. the overshoot past the disk budget before the kill: bytes on disk (du) less the budget, for a writer
//      paced at ~500 MB/s into 8 MiB files (so RLIMIT_FSIZE never stops it), median of several runs; and
//      for an unpaced writer (`head -c 8M /dev/zero > fN` in a loop: as fast as the page cache takes it).
//   2. the sandbox launcher's CPU (its watcher) with no execution running, and with 4 executions each
//      running `sleep 60` (the watcher ticks every 50 ms then), % of one core over the same window.
// Run: PATH=node_modules/.bin:$PATH node --import tsx bench/budgets.ts [--runs N] [--cpu-seconds N]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { docker } from '../test/helpers/docker.js';
import { routeByInstructions, startFakeLlm, toolCall, type FakeLlmStep } from '../test/helpers/fakeLlm.js';
import { RunnerStack, collect } from '../test/helpers/runnerStack.js';
import { median } from './benchStats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'cpu-seconds': { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const cpuSeconds = Number(values['cpu-seconds']);
const MiB = 1024 ** 2;
const budget = 1024 * MiB;

const pacedWriter = `python3 -c '
import time
chunk = bytes(1 << 20); rate = 500e6; due = time.monotonic()
for i in range(512):
    with open("f%d" % i, "wb") as f:
        for _ in range(8):
            f.write(chunk); f.flush()
            due = max(due, time.monotonic()) + len(chunk) / rate  # never faster than the rate, no catching up
            time.sleep(max(0, due - time.monotonic()))
'`;
const unpacedWriter = 'for i in $(seq 1 512); do head -c 8M /dev/zero > f$i; done';

const routes = new Map<string, FakeLlmStep[]>();
const llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond: routeByInstructions(routes) });
const stack = await RunnerStack.start({ llmUrl: llm.url, maxConcurrency: 4 });

function agent(name: string): string {
	const file = path.join(stack.home.dir, `agent-${name}.json`);
	writeFileSync(file, JSON.stringify({ name, instructions: name, tools: ['run_command'], max_steps: 10 }));
	return file;
}

async function asOwner(id: string, command: string[]): Promise<string> {
	const owner = (await docker(['exec', stack.containerName, 'stat', '-c', '%u:%g', `/workspace/${id}`])).stdout.trim();
	return (await docker(['exec', '--user', owner, stack.containerName, ...command], { timeoutMs: 120_000 })).stdout;
}

/** One execution running `command` until its budget stops it: bytes on disk less the budget. */
async function overshoot(name: string, command: string): Promise<number> {
	routes.set(name, [toolCall('run_command', { command, timeout_seconds: 120 })]);
	const run = await collect(stack.spawnCli(['run', agent(name), 'go', '--json']), 180_000);
	const events = run.stdout
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as { execution: string; type: string; data: any });
	const status = events.at(-1)!.data;
	if (status.status !== 'failed' || !String(status.error).startsWith('workspace budget')) throw new Error(`not stopped by the budget: ${run.stdout}`);
	const id = events[0]!.execution;
	const bytes = Number((await asOwner(id, ['du', '-s', '-B1', `/workspace/${id}`])).split(/\s/)[0]);
	await asOwner(id, ['sh', '-c', `rm -rf /workspace/${id}/*`]);
	return bytes - budget;
}

const launcherCpuScript = `
import os, time
pid = next(p for p in os.listdir("/proc") if p.isdigit() and open("/proc/%s/cmdline" % p, "rb").read().startswith(b"python3\\0-m\\0stigmer_agent_runner.sandbox_launcher"))
def ticks():
    fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
t0, w0 = ticks(), time.monotonic()
time.sleep(${cpuSeconds})
print((ticks() - t0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - w0) * 100)
`;
const launcherCpu = async () => Number((await docker(['exec', stack.containerName, 'python3', '-c', launcherCpuScript], { timeoutMs: (cpuSeconds + 30) * 1000 })).stdout.trim());

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
try {
	const paced: number[] = [];
	const unpaced: number[] = [];
	for (let i = 0; i < runs; i++) {
		paced.push(await overshoot(`paced${i}`, pacedWriter));
		unpaced.push(await overshoot(`unpaced${i}`, unpacedWriter));
	}
	console.log(`disk budget ${mb(budget)}: overshoot before the kill, ${runs} runs each`);
	console.log(`  writer paced at 500 MB/s: median ${mb(median(paced))}, max ${mb(Math.max(...paced))}  [${paced.map(mb).join(', ')}]  (goal ≤ 64 MiB)`);
	console.log(`  unpaced writer:           median ${mb(median(unpaced))}, max ${mb(Math.max(...unpaced))}  [${unpaced.map(mb).join(', ')}]`);

	const idle = await launcherCpu();
	const sleepers = [0, 1, 2, 3].map((n) => {
		routes.set(`sleeper${n}`, [toolCall('run_command', { command: 'sleep 60', timeout_seconds: 120 })]);
		return collect(stack.spawnCli(['run', agent(`sleeper${n}`), 'go', '--json']), 180_000);
	});
	await llm.waitForRequests(4 + 2 * runs, 60_000);
	const busy = await launcherCpu();
	console.log(`sandbox launcher CPU over ${cpuSeconds} s: ${idle.toFixed(2)} % of a core with no execution, ${busy.toFixed(2)} % with 4 executions running sleep 60`);
	await Promise.all(sleepers);
} finally {
	await stack.dispose();
	await llm.close();
}
