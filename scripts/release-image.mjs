// `npm run release:image -- REGISTRY`: builds stigmer's agent-runner image for this build (as `stigmer
// image build` does: the packaged context, tag <version>-<hash12>), tags it REGISTRY/<repository> by hash
// and by version, pushes both with the docker CLI (its login: `docker login REGISTRY` first when the
// registry asks for one) and prints the reference pinned by digest, for agentRunner.image:
//   127.0.0.1:5000/stigmer/agent-runner@sha256:…
// With --pin [FILE] (default agent-runner-image.json at the package's root, which the npm package ships)
// it also records that reference with the source hash: a stigmer built from the same sources then pulls
// its image from there instead of building it (agentRunner/image.ts).
// STIGMER_DEV_IMAGE_REPOSITORY names the repository, as everywhere. Run after `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { imageRepository, imageTag } from '../dist/contract.js';
import { imageSourceHash } from '../dist/buildContext.js';
import { packageRoot, packageVersion } from '../dist/version.js';

const [registry, ...rest] = process.argv.slice(2);
const pin = rest[0] === '--pin' ? (rest[1] ?? path.join(packageRoot, 'agent-runner-image.json')) : null;
if (!registry || registry.includes('/') || registry.startsWith('-') || (rest.length > 0 && !pin)) {
	console.error('usage: npm run release:image -- REGISTRY [--pin [FILE]]   (a host[:port], e.g. ghcr.io or 127.0.0.1:5000)');
	process.exit(2);
}
const local = imageTag(packageVersion, imageSourceHash());
const remote = `${registry}/${imageRepository}`;
const tags = [`${remote}:${packageVersion}-${imageSourceHash().slice(0, 12)}`, `${remote}:${packageVersion}`];
const run = (program, args) => {
	const result = spawnSync(program, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
	if (result.status !== 0) {
		console.error(`${program} ${args.join(' ')} failed (exit ${result.status})${/push/.test(args[0]) ? `: if ${registry} needs a login, docker login ${registry}` : ''}`);
		process.exit(1);
	}
	return result.stdout;
};

run(process.execPath, [path.join(packageRoot, 'dist', 'cli.js'), 'image', 'build']);
let digest = null;
for (const tag of tags) {
	run('docker', ['tag', local, tag]);
	const pushed = run('docker', ['push', tag]);
	digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1] ?? digest;
}
if (!digest) {
	// the push printed no digest (another docker CLI): the engine knows it
	const repoDigests = JSON.parse(execFileSync('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', tags[0]], { encoding: 'utf8' }));
	digest = repoDigests.find((d) => d.startsWith(`${remote}@`))?.split('@')[1] ?? null;
}
if (!digest) {
	console.error(`pushed ${tags.join(', ')} but found no digest`);
	process.exit(1);
}
console.error(`pushed ${tags.join(' and ')}; pin it in config.yaml as agentRunner.image:`);
console.log(`${remote}@${digest}`);
if (pin) {
	// the package then pulls this image instead of building it, as long as its sources are these
	writeFileSync(pin, `${JSON.stringify({ image: `${remote}@${digest}`, source: imageSourceHash() }, null, 2)}\n`);
	console.error(`pinned in ${pin}: this package pulls it instead of building`);
}
