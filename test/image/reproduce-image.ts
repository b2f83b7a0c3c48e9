import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { contextFiles } from './build-context';
import { parseDockerfile, type Instruction, type Stage } from './dockerfile';

/** The final stage's file tree and settings, as `docker build` would leave them. */
export interface ReproducedImage {
  /** The folder standing for the image's WORKDIR (/app). */
  root: string;
  env: Record<string, string>;
  cmd: string[];
  user: string | undefined;
  /** Instructions not reproduced, each with the reason the caller gave. */
  skipped: string[];
}

export interface ReproduceOptions {
  contextDir: string;
  /** Where each stage's /app is laid out, one folder per stage. */
  workDir: string;
  /**
   * A reason to leave an instruction out (say, copying the portal's build output, which needs the
   * whole development install and a Vite build), or null to reproduce it. Every skip is reported.
   */
  skip?: (stage: Stage, instruction: Instruction) => string | null;
}

const APP = '/app';

/**
 * Reproduces a Dockerfile's stages without Docker, for an image whose every stage works in /app:
 * COPY from the context (filtered by .dockerignore, as `docker build` sends it) and from earlier
 * stages, `RUN npm ci ...` for real (npm's cache is preferred, nothing else changes), ENV, USER,
 * EXPOSE and CMD recorded. Stages are built only when the final one needs them. Anything else (a
 * RUN other than npm ci, a path outside /app) is an error, unless `skip` names a reason for it.
 */
export function reproduceImage(dockerfile: string, options: ReproduceOptions): ReproducedImage {
  const stages = parseDockerfile(dockerfile);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const built = new Map<string, string>();
  const context = contextFiles(options.contextDir);
  const skipped: string[] = [];
  let final: Omit<ReproducedImage, 'root' | 'skipped'> = { env: {}, cmd: [], user: undefined };

  const build = (stage: Stage): string => {
    const done = built.get(stage.name);
    if (done) return done;
    const dir = join(options.workDir, stage.name.replace(/[^A-Za-z0-9_-]/g, '_'));
    const base = byName.get(stage.from);
    if (base) cpSync(build(base), dir, { recursive: true, verbatimSymlinks: true });
    else mkdirSync(dir, { recursive: true });
    const settings: Omit<ReproducedImage, 'root' | 'skipped'> = { env: {}, cmd: [], user: undefined };
    for (const instruction of stage.instructions) {
      const reason = options.skip?.(stage, instruction) ?? null;
      if (reason) {
        skipped.push(`${stage.name}: ${instruction.text} (${reason})`);
        continue;
      }
      run(stage, instruction, dir, settings);
    }
    built.set(stage.name, dir);
    if (stage === stages[stages.length - 1]) final = settings;
    return dir;
  };

  const run = (stage: Stage, { keyword, flags, args, text }: Instruction, dir: string, settings: typeof final): void => {
    switch (keyword) {
      case 'WORKDIR':
        if (args[0] !== APP) throw new Error(`${stage.name}: only WORKDIR ${APP} is reproduced: ${text}`);
        return;
      case 'ENV':
        for (const pair of args) {
          const at = pair.indexOf('=');
          if (at < 1) throw new Error(`${stage.name}: only ENV NAME=value is reproduced: ${text}`);
          settings.env[pair.slice(0, at)] = pair.slice(at + 1);
        }
        return;
      case 'USER':
        settings.user = args[0];
        return;
      case 'CMD':
        settings.cmd = args;
        return;
      case 'EXPOSE':
        return;
      case 'RUN': {
        const [npm, ci, ...rest] = args;
        if (npm !== 'npm' || ci !== 'ci') throw new Error(`${stage.name}: only RUN npm ci is reproduced: ${text}`);
        execFileSync('npm', ['ci', ...rest, '--prefer-offline'], { cwd: dir, stdio: 'pipe', timeout: 300_000 });
        return;
      }
      case 'COPY': {
        const sources = args.slice(0, -1);
        const dest = inApp(dir, args[args.length - 1] as string, text);
        const from = flags.from === undefined ? undefined : byName.get(flags.from);
        if (flags.from !== undefined && !from) throw new Error(`${stage.name}: COPY from an image, not a stage: ${text}`);
        for (const source of sources) {
          if (from) copyFromStage(build(from), source, dest, text);
          else copyFromContext(source, dest, text);
        }
        return;
      }
      default:
        throw new Error(`${stage.name}: ${keyword} is not reproduced: ${text}`);
    }
  };

  const copyFromStage = (stageDir: string, source: string, dest: string, text: string): void => {
    const src = inApp(stageDir, source, text);
    if (!existsSync(src)) throw new Error(`COPY source missing: ${text}`);
    if (statSync(src).isDirectory()) cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
    else cpSync(src, dest.endsWith('/') ? join(dest, source.split('/').pop() as string) : dest);
  };

  const copyFromContext = (source: string, dest: string, text: string): void => {
    const prefix = normalize(source).replace(/\/$/, '');
    const matched = prefix === '.' ? context : context.filter((f) => f === prefix || f.startsWith(`${prefix}/`));
    if (matched.length === 0) throw new Error(`COPY source not in the build context: ${text}`);
    for (const file of matched) {
      const target =
        prefix === '.' || file !== prefix
          ? join(dest, prefix === '.' ? file : file.slice(prefix.length + 1))
          : dest.endsWith('/')
            ? join(dest, file.split('/').pop() as string)
            : dest;
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(options.contextDir, file), target);
    }
  };

  const root = build(stages[stages.length - 1] as Stage);
  return { root, ...final, skipped };
}

/** A path in the image (absolute under /app, or relative to it) as a path under `dir`; keeps a trailing slash. */
function inApp(dir: string, path: string, text: string): string {
  const relativePath = path.startsWith('/') ? (path === APP || path.startsWith(`${APP}/`) ? path.slice(APP.length + 1) : null) : path;
  if (relativePath === null) throw new Error(`only paths under ${APP} are reproduced: ${text}`);
  const joined = join(dir, relativePath);
  return path.endsWith('/') || relativePath === '' || relativePath === '.' || relativePath === './' ? `${joined}/` : joined;
}
