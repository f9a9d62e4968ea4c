/* The field app's service worker: keeps the app itself on the phone (answered from the cache, so
 * it opens without a network, and refreshed behind the scenes, so a new version arrives on the
 * next open) and sends the outbox on a background sync where the browser has one.
 * API calls are never cached or answered here: they go to the network from the page. */
'use strict';
importScripts('outbox.js');

const VERSION = 'bantar-field-v3';  // a new version for every change of the shell's files: phones fetch them again
const SHELL = [
  './', 'index.html', 'app.js', 'outbox.js', 'style.css', 'manifest.webmanifest', 'icon.svg',
  'vendor/jsQR-1.4.0.js', 'vendor/qrcode-generator-1.4.4.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== VERSION) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) {
    return;  // the API and everything else: straight to the network
  }
  const asked = event.request.mode === 'navigate' ? new Request('index.html') : event.request;
  event.respondWith(caches.open(VERSION).then(async (cache) => {
    const hit = await cache.match(asked, { ignoreSearch: true });
    const fresh = fetch(event.request).then((response) => {
      if (response.ok) cache.put(asked, response.clone());
      return response;
    });
    if (!hit) return fresh;
    event.waitUntil(fresh.catch(() => null));
    return hit;
  }));
});

self.addEventListener('sync', (event) => {
  /* the browser says there is a network: send everything waiting, backoff or not; a send that
   * failed for the network or the server fails the sync, so the browser tries again later (the
   * open page also retries on its own schedule, told by the message) */
  if (event.tag === 'outbox') {
    event.waitUntil(openStore().then((db) => syncOutbox(db, null, true)).then(async (result) => {
      for (const client of await self.clients.matchAll()) client.postMessage({ type: 'synced', result });
      if (result.stopped === 'offline' || result.stopped === 'server') throw new Error(`outbox: ${result.stopped}`);
    }));
  }
});
