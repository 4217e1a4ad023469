import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataPaths, defaultDataDir } from '../src/node/data-paths.ts';

test('the default data dir is the OS app-data dir Electron uses', () => {
  assert.equal(defaultDataDir({}, 'linux', '/home/u'), '/home/u/.config/Taskdock');
  assert.equal(defaultDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux', '/home/u'), '/x/Taskdock');
  assert.equal(
    defaultDataDir({}, 'darwin', '/Users/u'),
    '/Users/u/Library/Application Support/Taskdock',
  );
  assert.match(
    defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'),
    /AppData.Roaming.Taskdock$/,
  );
});

test('the files of the data dir, as backend, supervisor and CLI find them', () => {
  const paths = dataPaths('/data');
  assert.equal(paths.token, '/data/token');
  assert.equal(paths.runtime, '/data/runtime.json');
  assert.equal(paths.sessions, '/data/sessions.json');
  assert.equal(paths.workflows, '/data/workflows');
});
