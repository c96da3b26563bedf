// Nothing to build: this package only fetches the FreeRTOS kernel sources.
