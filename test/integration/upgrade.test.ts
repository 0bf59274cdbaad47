// Upgrade and downgrade through npm (issue 22): version N (this build) installed with `npm install -g`,
// started, an execution run; then N+1 (another version whose runner differs by a line) installed over it
// and started: N+1's image runs, the execution is still listed with its result, no container of N is left;
// then N again: the same in reverse. The images go under a repository of their own.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { homeHash, imageRepository } from '../../source/contract.ts';
import { contextFiles, hashContext } from '../../source/buildContext.ts';
import { packageVersion } from '../../source/version.ts';
import { freePort } from '../helpers/cli.ts';
import { docker, removeHomeContainers } from '../helpers/docker.ts';
import { type FakeLlm, finalAnswer, startFakeLlm } from '../helpers/fakeLlm.ts';
import { installEnv, packAndInstall, runIn } from '../helpers/npmInstall.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-upgrade-'));
const prefix = path.join(tmp, 'prefix');
const home = path.join(tmp, 'home');
const repository = `${imageRepository}-upgrade-test`;
const env = installEnv(prefix, { STIGMER_DEV_IMAGE_REPOSITORY: repository });
const next = `${packageVersion}-next.${process.pid}`;
const tags: string[] = [];
let llm: FakeLlm;

/** N+1: another version, and a runner that differs by one line */
function nextVersion(staging: string): void {
	const manifest = JSON.parse(readFileSync(path.join(staging, 'package.json'), 'utf8'));
	writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify({ ...manifest, version: next }, null, 2)}\n`);
	appendFileSync(path.join(staging, 'agent-runner', 'stigmer_agent_runner', '__init__.py'), `\n# ${next}\n`);
	writeFileSync(path.join(staging, 'dist', 'image-source.json'), `${JSON.stringify({ version: next, hash: hashContext(contextFiles(staging), next) })}\n`);
}

const stigmer = (args: string[]) => runIn(path.join(prefix, 'bin', 'stigmer'), ['--home', home, ...args], tmp, env);

interface Container {
	Id: string;
	Labels: string;
	Image: string;
}
async function homeContainers(): Promise<Container[]> {
	const out = (await docker(['ps', '-a', '--filter', `label=ai.stigmer.home=${homeHash(home)}`, '--format', '{{json .}}'])).stdout.trim();
	return out ? out.split('\n').map((l) => JSON.parse(l) as Container) : [];
}

async function startAndCheck(version: string): Promise<void> {
	const started = await stigmer(['server', 'start']);
	assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
	const status = JSON.parse((await stigmer(['server', 'status', '--json'])).stdout);
	const row = status.services.find((s: { name: string }) => s.name === 'agent-runner');
	assert.equal(row.state, 'running');
	assert.ok(row.image.startsWith(`${repository}:${version}-`), row.image);
	assert.equal(row.imageSource.matches, true);
	tags.push(row.image);
	const containers = await homeContainers();
	assert.equal(containers.length, 1, JSON.stringify(containers));
	assert.match(containers[0]!.Labels, new RegExp(`ai\\.stigmer\\.version=${version.replace(/\./g, '\\.')}(,|$)`));
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	mkdirSync(home);
	writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${await freePort()}\n  llm:\n    baseUrl: ${llm.url}\nservices: {}\n`);
});

after(async () => {
	await stigmer(['server', 'stop']).catch(() => undefined);
	await removeHomeContainers(home);
	for (const tag of new Set(tags)) await docker(['rmi', tag], { allowFailure: true });
	await llm?.close();
	rmSync(tmp, { recursive: true, force: true });
});

test('npm upgrade N → N+1 → N: the installed version’s runner runs, executions and data kept, nothing of the other left', { timeout: 1_800_000 }, async () => {
	await packAndInstall(tmp, prefix, env, { name: 'n' });
	await startAndCheck(packageVersion);
	llm.push(finalAnswer('made by N'));
	writeFileSync(path.join(home, 'agent.yaml'), 'name: upgrade\ninstructions: Answer.\n');
	const run = await stigmer(['run', path.join(home, 'agent.yaml'), 'who made you?']);
	assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
	const id = /(ex-[0-9a-f]+-[0-9a-f]+)/.exec(run.stdout)![1]!;
	const listed = async () => {
		const shown = await stigmer(['executions', 'show', id, '--json']);
		assert.equal(shown.code, 0, shown.stderr);
		return JSON.parse(shown.stdout).status;
	};

	await packAndInstall(tmp, prefix, env, { name: 'next', edit: nextVersion });
	assert.equal((await stigmer(['--version'])).stdout.trim(), next);
	await startAndCheck(next);
	assert.equal(await listed(), 'succeeded');

	await packAndInstall(tmp, prefix, env, { name: 'n' });
	assert.equal((await stigmer(['--version'])).stdout.trim(), packageVersion);
	await startAndCheck(packageVersion);
	assert.equal(await listed(), 'succeeded');
	assert.notEqual(tags[0], tags[1]);
	assert.equal(tags[2], tags[0], 'the downgrade runs N’s own image again');
});
