// Classic content script (manifests cannot declare module content scripts): it only loads
// the real entry, an ES module listed in web_accessible_resources for web.whatsapp.com.
(async () => {
  const ext = globalThis.browser ?? globalThis.chrome;
  try {
    const { start } = await import(ext.runtime.getURL('content/main.js'));
    start();
  } catch (err) {
    console.warn('[Conversa] the content script did not start:', err);
  }
})();
