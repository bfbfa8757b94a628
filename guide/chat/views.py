"""The chat pages: plain form posts that work without JavaScript; htmx makes them feel live."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..audit import audit
from ..models import Chat, ChatMessage
from ..web import current_user, db, guidance, login_required
from .conversation import Conversation, MessageRefused

bp = Blueprint("chat", __name__, template_folder="templates")


def _enabled():
    if "chat_content" not in current_app.extensions:
        abort(404)


def _own_chat(chat_id: str) -> Chat:
    _enabled()
    chat = db().get(Chat, chat_id)
    if chat is None or chat.user_id != current_user().id:
        abort(404)
    return chat


def _conversation(chat: Chat) -> Conversation:
    extensions = current_app.extensions
    return Conversation(db(), guidance(), extensions["chat_content"], extensions["chat_index"],
                        extensions.get("guidance_text"), chat, current_user())


def _page(chat: Chat | None, error: str | None = None, text: str = "", status: int = 200):
    messages = list(db().scalars(select(ChatMessage).where(ChatMessage.chat_id == chat.id)
                                 .order_by(ChatMessage.id))) if chat else []
    asking = _conversation(chat)._asking() if chat else None
    recent = list(db().scalars(select(Chat).where(Chat.user_id == current_user().id)
                               .order_by(Chat.updated_at.desc()).limit(5))) if chat is None else []
    return render_template("chat/chat.html", chat=chat, messages=messages, asking=asking, error=error, text=text,
                           recent=recent, newest=_newest(chat.id) if chat and not error else None,
                           urgent=current_app.extensions["chat_content"].urgent, flowcharts=guidance().content.flowcharts,
                           scenarios=guidance().scenarios), status


def _act(chat: Chat, action, text: str = ""):
    try:
        action(_conversation(chat))
    except MessageRefused as refused:
        db().rollback()
        return _page(db().get(Chat, chat.id), error=str(refused), text=text, status=400)
    db().commit()
    return redirect(url_for("chat.show", chat_id=chat.id, _anchor=f"m{_newest(chat.id)}"), 303)


def _newest(chat_id: str) -> int | None:
    """The first of the guide's replies to the latest message: where reading continues after a reply."""
    asked = db().scalar(select(ChatMessage.id).where(ChatMessage.chat_id == chat_id, ChatMessage.author == "you")
                        .order_by(ChatMessage.id.desc()).limit(1)) or 0
    first_reply = db().scalar(select(ChatMessage.id).where(ChatMessage.chat_id == chat_id, ChatMessage.id > asked)
                              .order_by(ChatMessage.id).limit(1))
    return first_reply or asked or None


@bp.route("/chat", methods=["GET", "POST"])
@login_required
def new():
    _enabled()
    if request.method == "GET":
        return _page(None)
    text = request.form.get("message", "")
    chat = Chat(user_id=current_user().id)
    db().add(chat)
    db().flush()
    audit(db(), current_user().id, "chat.start", "chat", chat.id)
    try:
        _conversation(chat).message(text)
    except MessageRefused as refused:
        db().rollback()
        return _page(None, error=str(refused), text=text[:2000], status=400)
    db().commit()
    # The new chat's page opens with focus on the guide's first reply (autofocus; see _newest).
    return redirect(url_for("chat.show", chat_id=chat.id), 303)


@bp.get("/chat/<chat_id>")
@login_required
def show(chat_id: str):
    return _page(_own_chat(chat_id))


@bp.post("/chat/<chat_id>/messages")
@login_required
def message(chat_id: str):
    text = request.form.get("message", "")
    return _act(_own_chat(chat_id), lambda c: c.message(text), text=text[:2000])


@bp.post("/chat/<chat_id>/danger")
@login_required
def danger(chat_id: str):
    return _act(_own_chat(chat_id), lambda c: c.danger(request.form.get("answer", "")))


@bp.post("/chat/<chat_id>/start")
@login_required
def start(chat_id: str):
    return _act(_own_chat(chat_id), lambda c: c.start(request.form.get("flowchart", "")))


@bp.post("/chat/<chat_id>/answer")
@login_required
def choose(chat_id: str):
    return _act(_own_chat(chat_id), lambda c: c.choose(request.form.get("question", ""), request.form.get("answer", "")))


@bp.post("/chat/<chat_id>/change")
@login_required
def change(chat_id: str):
    return _act(_own_chat(chat_id), lambda c: c.change(request.form.get("question", "")))
