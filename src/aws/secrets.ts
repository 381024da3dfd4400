/**
 * Credentials never reach output (safety rule 8). sgsync itself never logs
 * them, but text it did not write can carry them: an error message from an
 * endpoint that echoes the request's X-Amz-Security-Token, a value pasted into
 * the wrong key of a configuration. Every line sgsync writes passes through
 * `redactSecrets`, which blanks the values of the credential variables.
 */

/** Environment variables whose values are credentials. */
export const SECRET_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'] as const;

/** What a blanked value reads as. */
export const REDACTED = '[redacted]';

/**
 * The credential values of an environment worth looking for: short values
 * are left alone, because blanking "x" everywhere would garble every line
 * and no real credential is that short.
 */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return SECRET_VARIABLES.map((name) => env[name]?.trim() ?? '').filter((v) => v.length >= 8);
}

/**
 * `text` with every credential value of `env` (and its JSON-escaped form)
 * replaced by `[redacted]`.
 *
 * @example redactSecrets(`token ${process.env.AWS_SESSION_TOKEN}`) // 'token [redacted]'
 */
export function redactSecrets(text: string, secrets: readonly string[] = secretValues()): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
  }
  return out;
}
