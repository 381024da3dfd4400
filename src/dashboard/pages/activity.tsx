/**
 * Activity: the latest changes from the audit log, newest first.
 */
import type { FC } from 'hono/jsx';
import type { AuditRecord } from '../../controller/audit.js';
import { poll, ScrollBox, shortTime } from '../layout.js';

export const ActivitySection: FC<{ records: AuditRecord[]; source: string; refresh: number; note?: string; problem?: string }> = ({ records, source, refresh, note, problem }) => (
  <section id="activity" {...poll('/fragments/activity', refresh)}>
    {note ? <p class="banner info" role="status">{note}</p> : ''}
    {problem ? (
      <p class="banner" role="alert">{problem}</p>
    ) : (
      <p class="muted">{`${records.length} latest changes, newest first, from ${source}.`}</p>
    )}
    {problem ? '' : records.length === 0 ? (
      <p>No changes recorded yet.</p>
    ) : (
      <ScrollBox id="audit-box" label="Audit log">
        <table id="audit">
          <thead>
            <tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Group</th><th scope="col">Rule</th><th scope="col">Address</th><th scope="col">Instance</th><th scope="col">Region</th><th scope="col">Why</th></tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr data-action={r.action}>
                <td>{shortTime(r.time)}</td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>{r.target}</td>
                <td class="mono">{r.group}</td>
                <td class="mono">{r.ruleId ?? ''}</td>
                <td class="mono">{r.cidr ?? ''}</td>
                <td class="mono">{r.instance ?? ''}</td>
                <td>{r.region ?? ''}</td>
                <td>{r.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    )}
  </section>
);
