"""What the listeners hand their work on to, one concern a module.

A listener (bot.slack.listeners) reads the payload and calls one function here, with typed
keyword-only arguments; the function runs the request through the ack protocol
(bot.slack.respond) and says what happens after the ack. Views (bot.slack.views) draw, the
delivery package (bot.slack.delivery) speaks to Slack.
"""
