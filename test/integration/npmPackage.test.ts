// The npm package on its own (issue 22): `npm pack` of this build, installed with `npm install -g` into a
// temporary prefix, prints no warning, installs no devDependency and runs no install script; from a
// directory that is not the checkout it builds the agent-runner image from the packaged context (with
// progress) and runs a stack: --version, doctor, start → run → logs → stop (test/helpers/shippedCli.ts).
// The image goes under a repository of its own, so the build is the installed package's, not a reuse.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { imageRepository } from '../../source/contract.ts';
import { imageSourceHash } from '../../source/buildContext.ts';
import { packageVersion } from '../../source/version.ts';
import { freePort, repoRoot } from '../helpers/cli.ts';
import { docker, removeHomeContainers } from '../helpers/docker.ts';
import { type FakeLlm, startFakeLlm } from '../helpers/fakeLlm.ts';
import { installEnv, packAndInstall, runIn } from '../helpers/npmInstall.ts';
import { exerciseShippedCli, writeShippedHome } from '../helpers/shippedCli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-npm-'));
const prefix = path.join(tmp, 'prefix');
const home = path.join(tmp, 'home');
const elsewhere = path.join(tmp, 'elsewhere');
const repository = `${imageRepository}-npm-test`;
const tag = `${repository}:${packageVersion}-${imageSourceHash().slice(0, 12)}`;
let llm: FakeLlm;

const env = installEnv(prefix, { STIGMER_DEV_IMAGE_REPOSITORY: repository });

before(async () => {
	assert.ok(existsSync(path.join(repoRoot, 'dist', 'cli.js')), 'npm run build first');
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	for (const dir of [prefix, home, elsewhere]) mkdirSync(dir);
	writeShippedHome({ home, llm, port: await freePort() });
});

after(async () => {
	await removeHomeContainers(home);
	await docker(['rmi', tag], { allowFailure: true });
	await llm?.close();
	rmSync(tmp, { recursive: true, force: true });
});

test('npm pack → npm install -g → start, run, logs, stop from any directory, no warning', { timeout: 1_200_000 }, async () => {
	const { output, root, bin } = await packAndInstall(tmp, prefix, env);
	assert.deepEqual(
		output.split('\n').filter((l) => /warn|deprecated|gyp|install script/i.test(l)),
		[],
		output,
	);
	const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
	assert.equal(manifest.scripts?.prepare, undefined, 'the packed manifest has no install-time script');
	const modules = readdirSync(path.join(root, 'node_modules'));
	for (const left of ['dockerode', 'docker-modem', 'ssh2', 'cpu-features', 'protobufjs', '@grpc', 'typescript', 'esbuild', 'node']) {
		assert.ok(!modules.includes(left), `${left} is installed: ${modules.join(' ')}`);
	}
	assert.deepEqual(JSON.parse(readFileSync(path.join(root, 'dist', 'image-source.json'), 'utf8')), { version: packageVersion, hash: imageSourceHash() });

	const { start } = await exerciseShippedCli({ cli: (args) => runIn(bin, ['--home', home, ...args], elsewhere, env), home, llm });
	// the image was missing under this repository: built from the installed package's context, with progress
	assert.match(start.stderr, /building image, step \d+\/\d+/);
	const labels = JSON.parse((await docker(['image', 'inspect', tag])).stdout)[0].Config.Labels;
	assert.equal(labels['ai.stigmer.image-source'], imageSourceHash());
});
