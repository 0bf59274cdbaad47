// One execution that runs `command` `count` times through run_command (the fake model asks for each);
// the tool's own durations (duration_ms of each tool_result), for the sandbox benches.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { finalAnswer, toolCall, type FakeLlm } from '../test/helpers/fakeLlm.js';
import type { RunnerStack } from '../test/helpers/runnerStack.js';

export async function commandDurations(stack: RunnerStack, llm: FakeLlm, command: string, count: number, network?: string): Promise<number[]> {
	const agent = path.join(stack.home.dir, 'bench-agent.json');
	writeFileSync(agent, JSON.stringify({ name: 'bench', instructions: 'x', tools: ['run_command'], max_steps: count + 10, ...(network ? { network } : {}) }));
	llm.reset();
	llm.push(...Array.from({ length: count }, () => toolCall('run_command', { command })), finalAnswer('done'));
	const run = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 120_000 });
	const durations = run.stdout
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.filter((e) => e.type === 'tool_result')
		.map((e) => e.data.duration_ms as number);
	if (durations.length !== count) throw new Error(`${durations.length} of ${count} commands ran:\n${run.stdout}${run.stderr}`);
	return durations;
}
