// The agent-runner image of the commit before `file` was added, built from `git archive` under its own tag
// (`<repository>-baseline:<commit>`): the "before" of a bench that measures what that change costs.
import { execFileSync, spawn } from 'node:child_process';
import { imageRepository } from '../source/contract.js';
import { repoRoot } from '../test/helpers/runnerStack.js';

export async function imageBefore(file: string): Promise<string> {
	const added = execFileSync('git', ['log', '--format=%H', '--diff-filter=A', '-1', '--', file], { cwd: repoRoot }).toString().trim();
	const tag = `${imageRepository}-baseline:${added.slice(0, 12)}`;
	const archive = spawn('git', ['archive', `${added}^`, 'agent-runner', 'docker', '.dockerignore'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
	const build = spawn('docker', ['build', '-q', '--target', 'runtime', '-f', 'docker/Dockerfile', '-t', tag, '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
	archive.stdout.pipe(build.stdin);
	const code = await new Promise<number | null>((resolve) => build.on('close', resolve));
	if (code !== 0) throw new Error(`building ${tag} failed`);
	return tag;
}
