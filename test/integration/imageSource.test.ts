// A content-addressed agent-runner image (issue 22): a stigmer whose runner sources differ from the
// running container's image builds its own image and replaces the container, saying why, with the
// workspace, data, executions history and API token kept; `server status --json` and `doctor --json`
// show the hashes and whether they match. Two copies of this package stand for two stigmer builds.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { homeHash, imageRepository } from '../../source/contract.ts';
import { contextFiles, hashContext } from '../../source/buildContext.ts';
import { packageVersion } from '../../source/version.ts';
import { type CliResult, freePort } from '../helpers/cli.ts';
import { copyCli, copyPackage } from '../helpers/packageCopy.ts';
import { docker, removeHomeContainers } from '../helpers/docker.ts';
import { finalAnswer, type FakeLlm, startFakeLlm } from '../helpers/fakeLlm.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-imgsrc-'));
const home = path.join(tmp, 'home');
let llm: FakeLlm;
let port: number;

const cli = (pkg: string, args: string[]): Promise<CliResult> => copyCli(pkg, home, args);

const sourceOf = (pkg: string) => hashContext(contextFiles(pkg), packageVersion);
const tagOf = (pkg: string) => `${imageRepository}:${packageVersion}-${sourceOf(pkg).slice(0, 12)}`;

let first = '';
let second = '';

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	port = await freePort();
	first = copyPackage(path.join(tmp, 'first'));
	second = copyPackage(path.join(tmp, 'second'));
	// the second build's runner differs by one line
	appendFileSync(path.join(second, 'agent-runner', 'stigmer_agent_runner', '__init__.py'), `\n# a changed runner (${process.pid})\n`);
	mkdirSync(home);
	writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${port}\n  llm:\n    baseUrl: ${llm.url}\nservices: {}\n`);
});

after(async () => {
	await cli(first, ['server', 'stop', '--timeout', '3']).catch(() => undefined);
	await removeHomeContainers(home);
	// the second tag only: the first is this checkout's own image, which other tests reuse
	if (second) await docker(['rmi', tagOf(second)], { allowFailure: true });
	await llm?.close();
	rmSync(tmp, { recursive: true, force: true });
});

interface Row {
	name: string;
	state: string;
	id: string;
	image: string;
	imageSource: { hash: string | null; needed: string | null; matches: boolean | null };
}
async function runnerRow(pkg: string): Promise<Row> {
	const r = await cli(pkg, ['server', 'status', '--json']);
	assert.equal(r.code, 0, r.stderr);
	return (JSON.parse(r.stdout).services as Row[]).find((s) => s.name === 'agent-runner')!;
}

test('a stigmer with other runner sources replaces the container, keeping workspace, data, history and token', { timeout: 1_200_000 }, async () => {
	assert.notEqual(sourceOf(first), sourceOf(second));
	const started = await cli(first, ['server', 'start']);
	assert.equal(started.code, 0, started.stderr);
	const before = await runnerRow(first);
	assert.equal(before.state, 'running');
	assert.equal(before.image, tagOf(first));
	assert.deepEqual(before.imageSource, { hash: sourceOf(first), needed: sourceOf(first), matches: true });
	const image = JSON.parse((await docker(['image', 'inspect', tagOf(first)])).stdout)[0];
	assert.equal(image.Config.Labels['ai.stigmer.image-source'], sourceOf(first));
	assert.match(image.Config.Labels['ai.stigmer.base-image'], /^sha256:/);

	// an execution with its result, a file in the workspace
	llm.push(finalAnswer('kept across the upgrade'));
	writeFileSync(path.join(home, 'agent.yaml'), 'name: keeper\ninstructions: Answer.\n');
	const run = await cli(first, ['run', path.join(home, 'agent.yaml'), 'say it']);
	assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
	const id = /(ex-[0-9a-f]+-[0-9a-f]+)/.exec(run.stdout)![1]!;
	writeFileSync(path.join(home, 'workspace', 'note.txt'), 'mine\n');
	const token = readFileSync(path.join(home, 'secrets', 'api-token'), 'utf8');

	// the second stigmer sees the running container's image as out of date, before it changes anything
	const doctor = JSON.parse((await cli(second, ['doctor', '--json'])).stdout) as { checks: Array<{ name: string; status: string; imageSource?: Row['imageSource'] }> };
	const containerCheck = doctor.checks.find((c) => c.name === 'container image')!;
	assert.equal(containerCheck.status, 'warn');
	assert.deepEqual(containerCheck.imageSource, { hash: sourceOf(first), needed: sourceOf(second), matches: false });
	assert.deepEqual((await runnerRow(second)).imageSource, { hash: sourceOf(first), needed: sourceOf(second), matches: false });

	const replaced = await cli(second, ['server', 'start']);
	assert.equal(replaced.code, 0, replaced.stderr);
	const line = `agent-runner image is out of date (built from ${sourceOf(first).slice(0, 12)}, this stigmer needs ${sourceOf(second).slice(0, 12)}): replacing`;
	assert.equal(replaced.stderr.split('\n').filter((l) => l.includes(line)).length, 1, replaced.stderr);
	const after = await runnerRow(second);
	assert.equal(after.state, 'running');
	assert.notEqual(after.id, before.id);
	assert.equal(after.image, tagOf(second));
	assert.deepEqual(after.imageSource, { hash: sourceOf(second), needed: sourceOf(second), matches: true });
	const listed = await cli(second, ['executions', 'show', id, '--json']);
	assert.equal(listed.code, 0, listed.stderr);
	assert.equal(JSON.parse(listed.stdout).status, 'succeeded');
	assert.equal(readFileSync(path.join(home, 'workspace', 'note.txt'), 'utf8'), 'mine\n');
	assert.equal(readFileSync(path.join(home, 'secrets', 'api-token'), 'utf8'), token);
	const containers = (await docker(['ps', '-aq', '--filter', `label=ai.stigmer.home=${homeHash(home)}`])).stdout.trim().split('\n');
	assert.equal(containers.length, 1, 'the old container is gone');

	// the everyday path: the same stigmer again reuses it without a word about images
	const again = await cli(second, ['server', 'start']);
	assert.equal(again.code, 0, again.stderr);
	assert.ok(!again.stderr.includes('out of date'), again.stderr);
	assert.equal((await runnerRow(second)).id, after.id);
});
