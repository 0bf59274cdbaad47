// Pull instead of build (issue 22), against real registries on 127.0.0.1 (Debian's docker-registry, the
// reference registry server): `npm run release:image` pushes this build's image and prints its digest;
// with the local copy gone, `server start` pulls it by digest and becomes ready. A wrong digest, a stopped
// registry and a registry that needs a login each give their own error and leave the running stack as it
// was; with the docker CLI's login (DOCKER_CONFIG) the pull goes through.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { imageRepository } from '../../source/contract.ts';
import { imageSourceHash } from '../../source/buildContext.ts';
import { packageVersion } from '../../source/version.ts';
import { collect, type CliResult, freePort, repoRoot, runCli } from '../helpers/cli.ts';
import { docker, removeHomeContainers } from '../helpers/docker.ts';
import { copyCli, copyPackage } from '../helpers/packageCopy.ts';
import { type LocalRegistry, startRegistry } from '../helpers/registry.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-registry-'));
const home = path.join(tmp, 'home');
const registries: LocalRegistry[] = [];
let open = '';
let locked = '';
let port = 0;
const pushed: string[] = [];
const noLogin = path.join(tmp, 'docker-anonymous');
const withLogin = path.join(tmp, 'docker-login');

function release(registry: string, env: NodeJS.ProcessEnv = {}, more: string[] = []): Promise<CliResult> {
	return collect(
		spawn(process.execPath, [path.join(repoRoot, 'scripts', 'release-image.mjs'), registry, ...more], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }),
		900_000,
	);
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--home', home, ...args], { env: { DOCKER_CONFIG: noLogin, ...env }, timeoutMs: 300_000 });
const configure = (image: string) => writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${port}\n  image: ${image}\nservices: {}\n`);
async function runner(): Promise<{ state: string; id: string; image: string }> {
	const status = await cli(['server', 'status', '--json']);
	const row = JSON.parse(status.stdout).services.find((s: { name: string }) => s.name === 'agent-runner');
	return { state: row.state, id: row.id, image: row.image }; // not health: it moves on by itself
}
/** the local copies of what was pushed, so the engine must pull */
async function forget(): Promise<void> {
	for (const ref of pushed) await docker(['rmi', ref], { allowFailure: true });
}

before(async () => {
	mkdirSync(home);
	mkdirSync(noLogin);
	mkdirSync(withLogin);
	port = await freePort();
	const htpasswd = path.join(tmp, 'htpasswd');
	writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', 'stigmer', 'test-password'], { encoding: 'utf8' }));
	registries.push(await startRegistry(path.join(tmp, 'open')), await startRegistry(path.join(tmp, 'locked'), htpasswd));
	open = registries[0]!.address;
	locked = registries[1]!.address;
	const login = await collect(
		spawn('docker', ['--config', withLogin, 'login', '-u', 'stigmer', '--password-stdin', locked], { stdio: ['pipe', 'pipe', 'pipe'] }),
		60_000,
		Date.now(),
		'test-password\n',
	);
	assert.equal(login.code, 0, login.stderr);
});

after(async () => {
	await cli(['server', 'stop', '--timeout', '3']).catch(() => undefined);
	await removeHomeContainers(home);
	await forget();
	for (const registry of registries) await registry.stop();
	rmSync(tmp, { recursive: true, force: true });
});

test('release:image pushes and prints a digest; server start pulls it; each refusal is clear and harmless', { timeout: 1_800_000 }, async () => {
	const released = await release(open);
	assert.equal(released.code, 0, released.stderr);
	const ref = released.stdout.trim();
	assert.match(ref, new RegExp(`^${open.replace(/\./g, '\\.')}/${imageRepository}@sha256:[0-9a-f]{64}$`));
	const repository = `${open}/${imageRepository}`;
	pushed.push(ref, ...(JSON.parse((await docker(['image', 'inspect', ref])).stdout)[0].RepoTags as string[]).filter((t) => t.startsWith(repository)));
	await forget();
	assert.equal((await docker(['image', 'inspect', ref], { allowFailure: true })).code, 1, 'the pushed image is no longer local');

	configure(ref);
	const started = await cli(['server', 'start']);
	assert.equal(started.code, 0, started.stderr);
	assert.match(started.stderr, /pulling /);
	const running = await runner();
	assert.equal(running.state, 'running');
	assert.equal(running.image, ref);

	// a wrong digest: refused, the stack as it was
	configure(`${repository}@sha256:${'0'.repeat(64)}`);
	const wrong = await cli(['server', 'start']);
	assert.equal(wrong.code, 1);
	assert.match(wrong.stderr, new RegExp(`${open.replace(/\./g, '\\.')} has no image`));
	assert.match(wrong.stderr, /digest in agentRunner\.image/);
	assert.deepEqual(await runner(), running);

	// a registry that needs a login: refused without one, pulled with the docker CLI's
	const lockedRef = (await release(locked, { DOCKER_CONFIG: withLogin })).stdout.trim();
	assert.match(lockedRef, /@sha256:/);
	pushed.push(lockedRef, `${locked}/${imageRepository}`);
	for (const tag of JSON.parse((await docker(['image', 'inspect', lockedRef])).stdout)[0].RepoTags as string[]) if (tag.startsWith(locked)) pushed.push(tag);
	await forget();
	configure(lockedRef);
	const anonymous = await cli(['server', 'start']);
	assert.equal(anonymous.code, 1);
	assert.match(anonymous.stderr, /without a login/);
	assert.match(anonymous.stderr, new RegExp(`docker login ${locked.replace(/\./g, '\\.')}`));
	assert.deepEqual(await runner(), running);
	const loggedIn = await cli(['server', 'start'], { DOCKER_CONFIG: withLogin });
	assert.equal(loggedIn.code, 0, loggedIn.stderr);
	const replaced = await runner();
	assert.equal(replaced.image, lockedRef);

	// a stopped registry: tried again, then refused; the stack as it was
	await registries[0]!.stop();
	await forget();
	configure(ref);
	const stopped = await cli(['server', 'start']);
	assert.equal(stopped.code, 1);
	assert.match(stopped.stderr, new RegExp(`cannot reach the registry ${open.replace(/\./g, '\\.')}`));
	assert.match(stopped.stderr, /trying again in 1 s \(attempt 2 of 3\)/);
	assert.deepEqual(await runner(), replaced);
});

test('a package whose release pinned its image pulls it instead of building, and builds when the pull fails', { timeout: 1_200_000 }, async () => {
	// another repository: the image is the pinned one or nothing (no build of this checkout's to reuse)
	const repository = `${imageRepository}-pinned-test`;
	const env = { STIGMER_DEV_IMAGE_REPOSITORY: repository, DOCKER_CONFIG: noLogin };
	const registry = await startRegistry(path.join(tmp, 'pinning'));
	registries.push(registry);
	const pkg = copyPackage(path.join(tmp, 'pinned-package'));
	const pinFile = path.join(pkg, 'agent-runner-image.json');
	const released = await release(registry.address, { STIGMER_DEV_IMAGE_REPOSITORY: repository }, ['--pin', pinFile]);
	assert.equal(released.code, 0, released.stderr);
	const own = `${repository}:${packageVersion}-${imageSourceHash().slice(0, 12)}`;
	pushed.push(own, released.stdout.trim());
	for (const tag of JSON.parse((await docker(['image', 'inspect', own])).stdout)[0].RepoTags as string[]) if (tag.startsWith(registry.address)) pushed.push(tag);
	await forget();
	assert.equal((await docker(['image', 'inspect', own], { allowFailure: true })).code, 1);

	const pinnedHome = path.join(tmp, 'pinned-home');
	mkdirSync(pinnedHome);
	writeFileSync(path.join(pinnedHome, 'config.yaml'), `agentRunner:\n  port: ${await freePort()}\nservices: {}\n`);
	try {
		const started = await copyCli(pkg, pinnedHome, ['server', 'start'], env);
		assert.equal(started.code, 0, started.stderr);
		assert.match(started.stderr, new RegExp(`pulling ${released.stdout.trim().replace(/[.$]/g, '\\$&')}`));
		assert.doesNotMatch(started.stderr, /building image/);
		const row = JSON.parse((await copyCli(pkg, pinnedHome, ['server', 'status', '--json'], env)).stdout).services.find((s: { name: string }) => s.name === 'agent-runner');
		assert.equal(row.state, 'running');
		assert.equal(row.image, own);
		assert.equal(row.imageSource.matches, true);
		await copyCli(pkg, pinnedHome, ['server', 'stop'], env);

		// the registry gone: a line says why, and the image is built as without a pin
		await registry.stop();
		await forget();
		const built = await copyCli(pkg, pinnedHome, ['server', 'start'], env);
		assert.equal(built.code, 0, built.stderr);
		assert.match(built.stderr, /cannot reach the registry .*: building the image instead/);
		assert.match(built.stderr, /building image, step \d+\/\d+/);
	} finally {
		await copyCli(pkg, pinnedHome, ['server', 'stop', '--timeout', '3'], env).catch(() => undefined);
		await removeHomeContainers(pinnedHome);
	}
});
