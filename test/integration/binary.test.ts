// The single executable (issue 22): built by scripts/build-binary.mjs from this build, run in a
// debian:trixie-slim container that has no Node, with the engine's socket mounted: --version, doctor, and
// start → run → logs → stop (test/helpers/shippedCli.ts). The container shares the host's network (the
// fake LLM and the published API are on the host's loopback; the supervisor's LLM forward binds the home
// network's gateway, a host address) and sees the test's directory at the same path, because the engine
// reads bind-mount paths as the host's. The image goes under a repository of its own, so the binary
// builds it from the context it carries.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { baseImage, imageRepository } from '../../source/contract.ts';
import { imageSourceHash } from '../../source/buildContext.ts';
import { packageVersion } from '../../source/version.ts';
import { collect, freePort, repoRoot } from '../helpers/cli.ts';
import { docker, removeHomeContainers } from '../helpers/docker.ts';
import { type FakeLlm, startFakeLlm } from '../helpers/fakeLlm.ts';
import { exerciseShippedCli, writeShippedHome } from '../helpers/shippedCli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-binary-test-'));
const binary = path.join(tmp, 'stigmer');
const home = path.join(tmp, 'home');
const repository = `${imageRepository}-binary-test`;
const tag = `${repository}:${packageVersion}-${imageSourceHash().slice(0, 12)}`;
const runLabel = `ai.stigmer.test=binary-${process.pid}`;
let box = '';
/** the engine's socket, mounted at its own path */
const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';
let llm: FakeLlm;

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	mkdirSync(home);
	writeShippedHome({ home, llm, port: await freePort() });
	const built = await collect(spawn(process.execPath, [path.join(repoRoot, 'scripts', 'build-binary.mjs'), '--out', binary], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] }), 900_000);
	assert.equal(built.code, 0, built.stderr);
	// a machine with no Node: the base image itself, the socket, the test's directory at its own path
	const started = await docker([
		'run',
		'-d',
		'--rm',
		'--label',
		runLabel,
		'--network',
		'host',
		'-v',
		`${socket}:${socket}`,
		'-e',
		`DOCKER_HOST=unix://${socket}`,
		'-v',
		`${tmp}:${tmp}`,
		'-e',
		`HOME=${tmp}/user`,
		'-e',
		`STIGMER_DEV_IMAGE_REPOSITORY=${repository}`,
		'-e',
		'NO_COLOR=1',
		baseImage,
		'sleep',
		'infinity',
	]);
	box = started.stdout.trim();
});

after(async () => {
	if (box) await docker(['rm', '-f', box], { allowFailure: true });
	await removeHomeContainers(home);
	await docker(['rmi', tag], { allowFailure: true });
	await llm?.close();
	rmSync(tmp, { recursive: true, force: true });
});

test('the single executable runs start → run → logs → stop where there is no Node', { timeout: 1_200_000 }, async () => {
	const noNode = await docker(['exec', box, 'sh', '-c', 'command -v node nodejs || echo none'], { allowFailure: true });
	assert.equal(noNode.stdout.trim(), 'none');
	const cli = (args: string[]) => collect(spawn('docker', ['exec', box, binary, '--home', home, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }), 600_000);
	const { start } = await exerciseShippedCli({ cli, home, llm });
	assert.match(start.stderr, /building image, step \d+\/\d+/);
	const labels = JSON.parse((await docker(['image', 'inspect', tag])).stdout)[0].Config.Labels;
	assert.equal(labels['ai.stigmer.image-source'], imageSourceHash());
	// its supervisor ran from the unpacked package, as the executable itself
	const unpacked = await docker(['exec', box, 'sh', '-c', `ls ${tmp}/user/.cache/stigmer/app`]);
	assert.match(unpacked.stdout, new RegExp(`^${packageVersion.replace(/\./g, '\\.')}-[0-9a-f]{16}$`, 'm'));
});
