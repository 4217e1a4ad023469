import { Notification } from 'electron';
import type { Notifier } from '../shell/watched-tasks.ts';

/** OS notifications; none where the system has no notification service. */
export function electronNotifier(): Notifier {
  return {
    notify({ title, body, onClick }) {
      if (!Notification.isSupported()) return;
      const note = new Notification({ title, body });
      note.on('click', onClick);
      note.show();
    },
  };
}
