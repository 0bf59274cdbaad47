// Building the agent-runner image through the engine: on demand from `server start`, with progress,
// and a failing step reported with its output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { imageRepository } from '../../source/contract.ts';
import { DockerApi } from '../../source/engine/DockerApi.ts';
import { type BuildProgress, buildImage } from '../../source/agentRunner/ImageBuilder.ts';
import { UserError } from '../../source/errors.ts';
import { makeTestHome } from '../helpers/cli.ts';

const removeImage = (tag: string) => {
	try {
		execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
	} catch {
		// not there
	}
};

test('server start builds a missing image, showing the steps, then runs it', { timeout: 600_000 }, async () => {
	const home = await makeTestHome();
	// stigmer's own repository (STIGMER_DEV_IMAGE_REPOSITORY in a development checkout): built when missing
	const tag = `${imageRepository}:0.0.0-test-${process.pid}`;
	try {
		home.writeConfig(`agentRunner:\n  port: ${home.port}\n  image: ${tag}\nservices: {}\n`);
		// the whole build, apt downloads included, where the engine has no layer cached (a fresh machine's
		// docker in docker: over 180 s under CI's load); the test's own timeout stays the bound
		const r = await home.cli(['server', 'start'], { timeoutMs: 540_000 });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /building image, step \d+\/\d+/);
		const status = JSON.parse((await home.cli(['server', 'status', '--json'])).stdout);
		const row = status.services.find((s: { name: string }) => s.name === 'agent-runner');
		assert.equal(row.state, 'running');
		assert.equal(row.image, tag);
	} finally {
		await home.cleanup();
		removeImage(tag);
	}
});

test('a failing RUN step ends the build with that step and its output', { timeout: 300_000 }, async () => {
	const context = mkdtempSync(path.join(os.tmpdir(), 'stigmer-build-'));
	mkdirSync(path.join(context, 'docker'));
	mkdirSync(path.join(context, 'agent-runner'));
	writeFileSync(path.join(context, 'agent-runner', 'placeholder.txt'), 'x\n');
	writeFileSync(path.join(context, 'docker', 'Dockerfile'), 'FROM debian:trixie-slim AS runtime\nRUN echo "about to fail: missing-module-xyz" && exit 3\n');
	const tag = `stigmer/agent-runner-broken:${process.pid}`;
	const api = await DockerApi.connect();
	const steps: BuildProgress[] = [];
	try {
		await assert.rejects(buildImage(api, { image: tag, contextRoot: context, onProgress: (p) => steps.push(p) }), (error: unknown) => {
			assert.ok(error instanceof UserError);
			assert.equal(error.exitCode, 1);
			// the build request's labels (source hash, base image) are steps after the Dockerfile's two
			assert.match(error.message, /failed at step 2\/\d+ \(RUN/);
			assert.match(error.message, /about to fail: missing-module-xyz/);
			assert.match(error.message, /returned a non-zero code: 3|exit status 3/);
			return true;
		});
		assert.ok(steps.some((s) => s.kind === 'step' && s.step === 2));
	} finally {
		api.close();
		removeImage(tag);
	}
});
