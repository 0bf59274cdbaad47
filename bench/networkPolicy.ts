// The network policies' cost (docs/security.md): `run_command true` p50/p95 under none, internet and
// allow (the runner's policy, or an agent's narrower one) against the image from before the policy existed,
// all in the same run, stacks alternating; and a connect() to a listed loopback server under allow
// against the same connect from the container's network without a filter (docker exec).
// Usage: npx tsx bench/networkPolicy.ts [ROUNDS]
import { imageTag } from '../source/contract.js';
import { packageVersion } from '../source/version.js';
import { imageSourceHash } from '../source/buildContext.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { docker } from '../test/helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall } from '../test/helpers/fakeLlm.js';
import { RunnerStack } from '../test/helpers/runnerStack.js';
import { imageBefore } from './baselineImage.js';
import { commandDurations } from './commandDurations.js';
import { median, percentile } from './benchStats.js';

const rounds = Number(process.argv[2] ?? 3);
const commands = 30;
const port = 7999;

/** 200 connects to a server of the same process on the loopback; the median in µs. */
const connects = `import socket, time
s = socket.create_server(("127.0.0.1", ${port}), backlog=512)
times = []
for _ in range(200):
    t = time.perf_counter()
    c = socket.create_connection(("127.0.0.1", ${port}))
    times.append((time.perf_counter() - t) * 1e6)
    c.close()
    s.accept()[0].close()
print("CONNECT_US", sorted(times)[100])`;

const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
try {
	const current = imageTag(packageVersion, imageSourceHash());
	const baseline = await imageBefore('agent-runner/stigmer_agent_runner/netpolicy.py');
	// name -> [image, runner policy, agent policy]
	const cases: Record<string, [string, string | null, string | undefined]> = {
		'no policy (the image before it)': [baseline, null, undefined],
		none: [current, 'internet', 'none'],
		internet: [current, 'internet', undefined],
		allow: [current, `{ allow: ["127.0.0.1:${port}", "pypi.org:443"] }`, undefined],
	};
	const figures = new Map(Object.keys(cases).map((name) => [name, { p50: [] as number[], p95: [] as number[] }]));
	const connect = { allow: [] as number[], unfiltered: [] as number[] };
	const starts = new Map<string, number[]>();
	for (let round = 0; round < rounds; round++) {
		const stacks = new Map<string, RunnerStack>();
		try {
			for (const [image, policy] of round % 2 ? Object.values(cases).reverse() : Object.values(cases)) {
				const key = `${image}\n${policy}`;
				if (stacks.has(key)) continue;
				const started = performance.now();
				stacks.set(key, await RunnerStack.start({ llmUrl: llm.url, image, ...(policy ? { sandbox: { network: policy } } : {}) }));
				starts.set(key, [...(starts.get(key) ?? []), performance.now() - started]);
			}
			const names = Object.keys(cases);
			for (const name of round % 2 ? names.reverse() : names) {
				const [image, policy, agent] = cases[name]!;
				const stack = stacks.get(`${image}\n${policy}`)!;
				const durations = await commandDurations(stack, llm, 'true', commands, agent);
				figures.get(name)!.p50.push(percentile(durations, 50));
				figures.get(name)!.p95.push(percentile(durations, 95));
				if (name === 'allow') {
					const inSandbox = await sandboxOutput(stack, `python3 -c '${connects}'`);
					connect.allow.push(Number(/CONNECT_US ([\d.]+)/.exec(inSandbox)?.[1]));
					const plain = await docker(['exec', stack.containerName, 'python3', '-c', connects.replaceAll(String(port), String(port + 1))]);
					connect.unfiltered.push(Number(/CONNECT_US ([\d.]+)/.exec(plain.stdout)?.[1]));
				}
			}
		} finally {
			for (const stack of stacks.values()) await stack.dispose();
		}
	}
	const ms = (n: number) => `${n.toFixed(1)} ms`;
	const reference = figures.get('no policy (the image before it)')!;
	console.log(`run_command true (${commands} per round, median of ${rounds} rounds, tool durations):`);
	for (const [name, figure] of figures) {
		const added = name.startsWith('no policy') ? '' : `; added p50 ${ms(median(figure.p50) - median(reference.p50))}, p95 ${ms(median(figure.p95) - median(reference.p95))} (goal ≤ +20 / +50 ms)`;
		console.log(`  ${name}: p50 ${ms(median(figure.p50))}, p95 ${ms(median(figure.p95))}${added}`);
	}
	for (const [key, times] of starts) console.log(`server start → ready, ${key.replace('\n', ', runner policy ')}: median ${(median(times) / 1000).toFixed(2)} s`);
	console.log(
		`connect() to a listed loopback server, median of 200 per round, median of ${rounds}: under allow ${median(connect.allow).toFixed(0)} µs, from the container's network without a filter ${median(connect.unfiltered).toFixed(0)} µs`,
	);
} finally {
	await llm.close();
}

/** The events of one run_command of `command` (the agent has the runner's policy), as printed by `run --json`. */
async function sandboxOutput(stack: RunnerStack, command: string): Promise<string> {
	const agent = path.join(stack.home.dir, 'connect-agent.json');
	writeFileSync(agent, JSON.stringify({ name: 'connect', instructions: 'x', tools: ['run_command'] }));
	llm.reset();
	llm.push(toolCall('run_command', { command }), finalAnswer('done'));
	const run = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 120_000 });
	return run.stdout;
}
