import { useEffect, useState } from 'preact/hooks';
import { byteSize } from '../lib/format';
import type { SubscriberDetail } from '../lib/api-types';
import type { Api } from './api-client';

/**
 * Says, on every page, when the subscriber has used the storage it may keep (limits.maxStoredBytes):
 * its new events are refused, and a tenth past it its deliveries wait. Without it a user whose
 * deliveries had stopped saw nothing in the portal to say why. Read again on each page change (one
 * small read); nothing is shown while it is under the limit, or when the read fails.
 */
export function StorageNotice({ api, page }: { api: Api; page: string }) {
  const [detail, setDetail] = useState<SubscriberDetail | null>(null);
  useEffect(() => {
    let current = true;
    api.getSubscriber().then(
      (d) => current && setDetail(d),
      () => current && setDetail(null),
    );
    return () => {
      current = false;
    };
  }, [api, page]);
  const limit = detail?.limits.maxStoredBytes ?? 0;
  const used = detail?.usage.storedBytes ?? 0;
  if (!detail || limit === 0 || used < limit) return null;
  const written = `${byteSize(used)} of the ${byteSize(limit)} it may keep for the retention period`;
  return (
    <p class="storage-notice" role="status">
      {detail.usage.deliveriesHeld
        ? `Deliveries are paused: this account has written ${written}. They resume as older records expire, or when the operator raises the limit; new events are refused meanwhile.`
        : `Storage is full: this account has written ${written}, so new events are refused until older records expire or the operator raises the limit. Deliveries already accepted go on.`}
    </p>
  );
}
