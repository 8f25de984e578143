/// The browser test page (GET /test), written by the browser test stage.
let browserTestPage: String = "<!doctype html><title>pending</title>"
