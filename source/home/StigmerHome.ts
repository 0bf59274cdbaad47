// The layout of STIGMER_HOME (docs/contract.md, "Home directory"). Every path under the home is built here.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { cliEnv, containerName, homeHash, networkName, type RemoteVolume, volumeName } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';
import { describeFileSystemRefusal, readOnlyRefusal } from '../platform/fileSystem.js';
import { removeLeftoverTempFiles } from './atomicFile.js';

export class StigmerHome {
	readonly dir: string;
	readonly isDefault: boolean;

	constructor(dir: string, isDefault: boolean) {
		this.dir = path.resolve(dir);
		this.isDefault = isDefault;
	}

	/** `--home DIR`, else `STIGMER_HOME`, else `~/.stigmer`. */
	static resolve(flag?: string, env: NodeJS.ProcessEnv = process.env): StigmerHome {
		const fallback = path.join(homedir(), '.stigmer');
		const chosen = flag ?? env[cliEnv.home] ?? fallback;
		return new StigmerHome(chosen, path.resolve(chosen) === path.resolve(fallback));
	}

	get hash(): string {
		return homeHash(this.dir);
	}

	get containerName(): string {
		return containerName(this.dir, this.isDefault);
	}

	get networkName(): string {
		return networkName(this.dir, this.isDefault);
	}

	/** the named volume holding `volume` on a remote engine */
	volumeName(volume: RemoteVolume): string {
		return volumeName(this.dir, this.isDefault, volume);
	}

	get configFile(): string {
		return path.join(this.dir, 'config.yaml');
	}
	get logsDir(): string {
		return path.join(this.dir, 'logs');
	}
	get runDir(): string {
		return path.join(this.dir, 'run');
	}
	get workspaceDir(): string {
		return path.join(this.dir, 'workspace');
	}
	get dataDir(): string {
		return path.join(this.dir, 'data');
	}
	get agentRunnerDataDir(): string {
		return path.join(this.dir, 'data', 'agent-runner');
	}
	get secretsDir(): string {
		return path.join(this.dir, 'secrets');
	}
	get binDir(): string {
		return path.join(this.dir, 'bin');
	}
	get apiTokenFile(): string {
		return path.join(this.secretsDir, 'api-token');
	}
	/** serialises start/stop of this home */
	get lockFile(): string {
		return path.join(this.runDir, 'stack.lock');
	}
	get supervisorSocket(): string {
		return path.join(this.runDir, 'supervisor.sock');
	}
	get supervisorPidFile(): string {
		return path.join(this.runDir, 'supervisor.pid');
	}
	/** live state of the native services, written by the supervisor */
	get nativeStateFile(): string {
		return path.join(this.runDir, 'natives.json');
	}
	logFile(service: string): string {
		return path.join(this.logsDir, `${service}.log`);
	}

	/** Creates the layout with the modes of docs/contract.md; a clear error when the home is unusable. */
	ensureLayout(): void {
		try {
			for (const dir of [this.dir, this.logsDir, this.runDir, this.workspaceDir, this.dataDir, this.agentRunnerDataDir, this.binDir]) {
				mkdirSync(dir, { recursive: true });
			}
			mkdirSync(this.secretsDir, { recursive: true, mode: 0o700 });
			if ((statSync(this.secretsDir).mode & 0o777) !== 0o700) chmodSync(this.secretsDir, 0o700);
		} catch (error) {
			const refusal = describeFileSystemRefusal(error, this.dir) ?? readOnlyRefusal(this.dir);
			if (refusal) throw new UserError(`cannot use ${this.dir} as the stigmer home: ${refusal}`, 1, `choose a writable directory with --home DIR or ${cliEnv.home}, or free some space there`);
			throw new UserError(`cannot use ${this.dir} as the stigmer home: ${errorMessage(error)}`, 1, `choose a writable directory with --home DIR or ${cliEnv.home}, or fix its permissions`);
		}
		// what writers that died left half-written (home/atomicFile.ts)
		for (const dir of [this.runDir, this.secretsDir]) removeLeftoverTempFiles(dir);
	}
}
