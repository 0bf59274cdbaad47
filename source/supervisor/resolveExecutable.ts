// argv[0] of a native service: a path is taken as it is (relative to the service's cwd); a bare name
// is looked up on PATH, then in $STIGMER_HOME/bin (docs/contract.md, "config.yaml").
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export function resolveExecutable(command: string, options: { cwd: string; binDir: string; pathEnv?: string }): string | null {
	if (command.includes('/')) {
		const candidate = path.resolve(options.cwd, command);
		return isExecutableFile(candidate) ? candidate : null;
	}
	const dirs = (options.pathEnv ?? process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
	for (const dir of [...dirs, options.binDir]) {
		const candidate = path.resolve(options.cwd, dir, command);
		if (isExecutableFile(candidate)) return candidate;
	}
	return null;
}

function isExecutableFile(file: string): boolean {
	try {
		if (!statSync(file).isFile()) return false;
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}
