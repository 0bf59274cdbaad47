// What every shipped form of stigmer (the npm tarball installed globally, the single executable) must do
// on a machine without a checkout: tell its version, run doctor, and start → run → logs → stop a stack
// with a temporary home, the model being the fake LLM. `cli` runs the shipped stigmer with arguments.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageVersion } from '../../source/version.ts';
import type { CliResult } from './cli.ts';
import { finalAnswer, type FakeLlm } from './fakeLlm.ts';

export interface ShippedRun {
	/** runs the shipped stigmer with `--home <home>` and these arguments */
	cli: (args: string[]) => Promise<CliResult>;
	/** the home, as the shipped stigmer sees it and as this test does (one path shared by both) */
	home: string;
	llm: FakeLlm;
}

export function writeShippedHome({ home, llm, port }: { home: string; llm: FakeLlm; port: number }): void {
	writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${port}\n  llm:\n    baseUrl: ${llm.url}\nservices: {}\n`);
}

/** --version, doctor --json, then the whole lifecycle; returns `server start`'s output for more checks. */
export async function exerciseShippedCli({ cli, home, llm }: ShippedRun): Promise<{ start: CliResult }> {
	const version = await cli(['--version']);
	assert.equal(version.code, 0, version.stderr);
	assert.equal(version.stdout.trim(), packageVersion);

	const doctor = await cli(['doctor', '--json']);
	const report = JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
	const check = (name: string) => report.checks.find((c) => c.name === name);
	assert.equal(check('config')?.status, 'ok', doctor.stdout);
	assert.equal(check('engine')?.status, 'ok', doctor.stdout);
	assert.ok(check('image'), doctor.stdout);

	const start = await cli(['server', 'start']);
	assert.equal(start.code, 0, `${start.stdout}\n${start.stderr}`);
	try {
		const status = await cli(['server', 'status', '--json']);
		const row = JSON.parse(status.stdout).services.find((s: { name: string }) => s.name === 'agent-runner');
		assert.equal(row.state, 'running', status.stdout);
		assert.equal(row.imageSource.matches, true, status.stdout);

		llm.push(finalAnswer('shipped and running'));
		writeFileSync(path.join(home, 'agent.yaml'), 'name: shipped\ninstructions: Answer.\n');
		const run = await cli(['run', path.join(home, 'agent.yaml'), 'are you there?']);
		assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
		assert.match(run.stdout, /shipped and running/);
		assert.match(run.stdout, /succeeded/);

		const logs = await cli(['server', 'logs', 'agent-runner', '--tail', '50']);
		assert.equal(logs.code, 0, logs.stderr);
		assert.match(logs.stdout, /agent-runner/);
	} finally {
		const stop = await cli(['server', 'stop']);
		assert.equal(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
	}
	const after = JSON.parse((await cli(['server', 'status', '--json'])).stdout);
	assert.equal(after.services.find((s: { name: string }) => s.name === 'agent-runner').state, 'stopped');
	return { start };
}
