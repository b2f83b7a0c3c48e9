import { z } from 'zod';

/** An environment flag: true/false/1/0/yes/no. z.coerce.boolean would read "false" as true. */
export function envBoolean(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'TRUE', 'FALSE'])
    .optional()
    .transform((v) => (v === undefined ? defaultValue : ['true', '1', 'yes', 'TRUE'].includes(v)));
}

/** Parses an environment with a zod schema; on failure the message names each variable and problem. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): Readonly<z.infer<T>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
