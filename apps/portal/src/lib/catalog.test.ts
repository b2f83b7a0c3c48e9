import { byNamespace, isSendable, namespaceOf } from './catalog';

describe('the catalog page helpers', () => {
  const t = (type: string, extra: Record<string, unknown> = {}) => ({ type, description: '', ...extra });

  it('groups current types by their first segment, sorted, leaving out archived ones', () => {
    const groups = byNamespace([
      t('order.paid'),
      t('incident.resolved'),
      t('order.created'),
      t('order.lost', { archived: true }),
      t('custom.*'),
    ]);
    expect(groups.map(([ns, types]) => [ns, types.map((x) => x.type)])).toEqual([
      ['custom', ['custom.*']],
      ['incident', ['incident.resolved']],
      ['order', ['order.created', 'order.paid']],
    ]);
    expect(namespaceOf('receipt.sms.delivered')).toBe('receipt');
  });

  it('offers for a test send neither custom.* nor what only Hookrelay sends', () => {
    expect(
      [t('order.paid'), t('custom.*'), t('endpoint.disabled'), t('hookrelay.test'), t('order.lost', { archived: true })]
        .filter(isSendable)
        .map((x) => x.type),
    ).toEqual(['order.paid']);
  });
});
