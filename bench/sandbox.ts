// Figures of issue 10 for the command sandbox, against the real agent-runner container and the fake model:
//   1. run_command of `true`: p50/p95 of the tool's own duration (duration_ms of tool_result), against the
//      old unsandboxed path measured in the same container (asyncio subprocess `sh -c true` as the service
//      ran it before, through `docker exec`: there is no unsandboxed production path to switch on).
//   2. 20 concurrent executions each running a command, STIGMER_MAX_CONCURRENCY=4: all succeed; total time.
//   3. runner idle memory (docker stats), and after a 700 MB-output command: running, OOMKilled, restarts.
// Run: PATH=node_modules/.bin:$PATH node --import tsx bench/sandbox.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { docker } from '../test/helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall } from '../test/helpers/fakeLlm.js';
import { RunnerStack } from '../test/helpers/runnerStack.js';

const commands = 30;
const rounds = 3;
const concurrent = 20;

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const median = (values: number[]) => percentile(values, 50);

const unsandboxed = `
import asyncio, json, time
async def main():
    out = []
    for _ in range(${commands}):
        t = time.monotonic()
        p = await asyncio.create_subprocess_exec("sh", "-c", "true", cwd="/tmp", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        await p.communicate()
        out.append((time.monotonic() - t) * 1000)
    print(json.dumps(out))
asyncio.run(main())
`;

const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
const stack = await RunnerStack.start({ llmUrl: llm.url, maxConcurrency: 4 });
try {
	const agent = path.join(stack.home.dir, 'agent.json');
	writeFileSync(agent, JSON.stringify({ name: 'bench', instructions: 'x', tools: ['run_command'], max_steps: 100 }));
	const p50s: number[] = [], p95s: number[] = [], oldP50s: number[] = [], oldP95s: number[] = [];
	for (let round = 0; round < rounds; round++) {
		llm.reset();
		llm.push(...Array.from({ length: commands }, () => toolCall('run_command', { command: 'true' })), finalAnswer('done'));
		const run = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 120_000 });
		const durations = run.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'tool_result').map((e) => e.data.duration_ms as number);
		p50s.push(percentile(durations, 50));
		p95s.push(percentile(durations, 95));
		const old = JSON.parse((await docker(['exec', '-u', '10001', stack.containerName, 'python3', '-c', unsandboxed])).stdout) as number[];
		oldP50s.push(percentile(old, 50));
		oldP95s.push(percentile(old, 95));
	}
	console.log(`run_command true (${commands} per run, median of ${rounds} runs): sandboxed p50 ${median(p50s)} ms, p95 ${median(p95s)} ms; unsandboxed p50 ${median(oldP50s).toFixed(1)} ms, p95 ${median(oldP95s).toFixed(1)} ms; added p50 ${(median(p50s) - median(oldP50s)).toFixed(1)} ms, p95 ${(median(p95s) - median(oldP95s)).toFixed(1)} ms`);

	llm.reset();
	const started = Date.now();
	const runs = await Promise.all(Array.from({ length: concurrent }, () => {
		llm.push(toolCall('run_command', { command: 'echo hi' }));
		return stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 300_000 });
	}));
	const ok = runs.filter((r) => r.code === 0).length;
	console.log(`${concurrent} concurrent executions each running a command (max concurrency 4): ${ok}/${concurrent} succeeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

	const idle: number[] = [];
	for (let i = 0; i < 3; i++) {
		const usage = (await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', stack.containerName])).stdout.split('/')[0]!.trim();
		idle.push(Number.parseFloat(usage) * (usage.endsWith('GiB') ? 1024 : usage.endsWith('KiB') ? 1 / 1024 : 1));
	}
	console.log(`runner idle memory: ${median(idle).toFixed(1)} MiB (docker stats, median of 3)`);

	llm.reset();
	llm.push(toolCall('run_command', { command: 'yes | head -c 734003200', timeout_seconds: 600 }), finalAnswer('done'));
	const flood = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 600_000 });
	const [inspect] = JSON.parse((await docker(['inspect', stack.containerName])).stdout);
	const duration = flood.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'tool_result')?.data.duration_ms;
	console.log(`after 700 MB of output (${duration} ms): running ${inspect.State.Running}, OOMKilled ${inspect.State.OOMKilled}, restarts ${inspect.RestartCount}, exit ${flood.code}`);
} finally {
	await stack.dispose();
	await llm.close();
}
