#!/usr/bin/env bash
# `npm run lint` (also run by `npm test`): Biome's formatter check and linter (biome.json).
# Until the tree's one-time format, it covers the files already formatted and clean; after
#   npx biome check --write .     (then fix what it reports but cannot fix itself)
# replace the list below with `.`.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(
	biome.json scripts
	source/main.ts source/cli.ts source/contract.ts source/version.ts source/errors.ts
	source/commands/CommandContext.ts source/commands/definitions.ts source/commands/parseCommand.ts source/commands/shell.ts source/commands/image
	source/commands/server/start.ts source/commands/server/stop.ts source/commands/server/restart.ts source/commands/server/status.ts source/commands/server/statusTable.ts
	source/agents/agentSpec.ts source/stack/ServiceStatus.ts
	source/supervisor/jsonLines.ts source/supervisor/jsonLines.test.ts source/supervisor/SupervisorDaemon.ts source/supervisor/supervisorMain.ts
	test/unit/cli.test.ts test/unit/parseCommand.test.ts test/unit/serverStatus.test.ts test/unit/defaults.test.ts test/unit/agents
	source/ui/components/Glyphs.test.tsx
)
exec biome check "${paths[@]}"
