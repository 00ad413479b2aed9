"""Environments: named sets of variables, the user's own and shared ones; secrets never shown."""

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from app.auth.views import login_required
from app.console import forms
from app.workspace import access
from liveperson_functions.variables import MASK
from liveperson_functions.variables import MAX_VALUE
from liveperson_functions.variables import MAX_VARIABLES
from liveperson_functions.variables import NAME
from liveperson_functions.variables import Resolver
from liveperson_functions.variables import Variable

bp = Blueprint("environments", __name__)
KIND = "environment"
EMPTY_ROWS = 3


def resolver(env_id):
    """Return the Resolver for an environment the user may see (or built-ins only), and it."""
    if not env_id:
        return Resolver(), None
    record = access.find(KIND, env_id)
    if record is None:
        return None, None
    variables = {
        v["name"]: Variable(v["name"], v["value"], v.get("secret", False))
        for v in record["doc"]["variables"]
    }
    return Resolver(variables), record


def shown(doc):
    """Return an environment as pages and exports may show it: secret values as ••••."""
    variables = [{**v, "value": MASK} if v.get("secret") else v for v in doc.get("variables", [])]
    return {**doc, "variables": variables}


def read_rows(form, old):
    """Return (variables, errors) from the edit form's rows; a blank secret keeps its value."""
    kept = {v["name"]: v["value"] for v in old if v.get("secret")}
    names, values = form.getlist("var_name"), form.getlist("var_value")
    secret_rows = set(form.getlist("var_secret"))
    variables, errors, seen = [], [], set()
    for number, (name, value) in enumerate(zip(names, values, strict=False)):
        name = name.strip()
        secret = str(number) in secret_rows
        if not name and not value:
            continue
        if not NAME.fullmatch(name):
            errors.append(
                f"“{name[:40]}” is not a variable name: a letter or _, then letters, digits, "
                "_ . - (at most 64)."
            )
            continue
        if name in seen:
            errors.append(f"The variable {name} appears twice.")
        seen.add(name)
        if secret and not value and name in kept:
            value = kept[name]
        if len(value) > MAX_VALUE:
            errors.append(f"The value of {name} is longer than {MAX_VALUE} characters.")
        variables.append({"name": name, "value": value, "secret": secret})
    if len(variables) > MAX_VARIABLES:
        errors.append(f"An environment has at most {MAX_VARIABLES} variables.")
    return variables, errors


@bp.app_template_global()
def environments_for_form():
    """The environments the invoke form and a suite run offer."""
    return access.items(KIND)


@bp.get("/environments")
@login_required
def index():
    """List the user's environments and the account's shared ones; create one."""
    found = access.items(KIND)
    return render_template(
        "workspace/environments.html",
        own=[r for r in found if r["owner"] == g.user["sub"]],
        shared=[r for r in found if r["shared"] and r["owner"] != g.user["sub"]],
        may_see_shared=access.may_see_shared(),
    )


@bp.post("/environments")
@login_required
def create():
    """Create an empty environment, the user's own or shared with the account."""
    name = forms.check_name(request.form.get("name"))
    if name is None:
        flash("Give the environment a name of 1 to 80 characters.")
        return redirect(url_for("environments.index"), 303)
    if full():
        return redirect(url_for("environments.index"), 303)
    shared = request.form.get("shared") == "1"
    record = access.add(KIND, {"name": name, "variables": []}, shared)
    return redirect(url_for("environments.show", env_id=record["id"]), 303)


def full():
    """Tell (and say) whether the user has as many environments as one may."""
    own = [r for r in access.items(KIND) if r["owner"] == g.user["sub"]]
    if len(own) < access.MAX_ITEMS:
        return False
    flash(f"You have {access.MAX_ITEMS} environments already; delete one first.")
    return True


@bp.get("/environments/<env_id>")
@login_required
def show(env_id):
    """Show an environment: a form to change it for its owner and admins, else read-only."""
    record = access.visible(KIND, env_id)
    return page(record, shown(record["doc"]), [])


def page(record, doc, errors, status=200):
    rows = doc["variables"] + [{"name": "", "value": "", "secret": False}] * EMPTY_ROWS
    return render_template(
        "workspace/environment.html",
        record=record,
        doc=doc,
        rows=rows,
        errors=errors,
        may_change=access.may_change(record),
        mask=MASK,
    ), status


@bp.post("/environments/<env_id>")
@login_required
def save(env_id):
    """Save an environment's name, variables and sharing, if nobody saved it meanwhile."""
    record = access.changeable(KIND, env_id)
    name = forms.check_name(request.form.get("name"))
    variables, errors = read_rows(request.form, record["doc"]["variables"])
    if name is None:
        errors.insert(0, "Give the environment a name of 1 to 80 characters.")
    typed = {"name": request.form.get("name", ""), "variables": variables}
    if errors:
        return page(record, shown(typed), errors, 400)
    version = request.form.get("version", type=int) or 0
    shared = request.form.get("shared") == "1"
    access.change(record, version, {"name": name, "variables": variables}, shared)
    flash(f"Saved the environment “{name}”.")
    return redirect(url_for("environments.show", env_id=env_id), 303)


@bp.post("/environments/<env_id>/delete")
@login_required
def delete(env_id):
    record = access.changeable(KIND, env_id)
    access.remove(record)
    flash(f"Deleted the environment “{record['doc']['name']}”.")
    return redirect(url_for("environments.index"), 303)


@bp.post("/environments/<env_id>/copy")
@login_required
def copy(env_id):
    """Copy an environment (secrets included, still never shown) to the user's own."""
    record = access.visible(KIND, env_id)
    if full():
        return redirect(url_for("environments.show", env_id=env_id), 303)
    doc = {**record["doc"], "name": f"{record['doc']['name']} (copy)"[:80]}
    mine = access.add(KIND, doc, shared=False)
    flash(f"Copied to your environments as “{doc['name']}”.")
    return redirect(url_for("environments.show", env_id=mine["id"]), 303)
