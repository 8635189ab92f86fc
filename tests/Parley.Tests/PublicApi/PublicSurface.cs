using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Parley.Tests.PublicApi;

/// <summary>
/// Describes an assembly's public surface as sorted text: one line per exported type, then one indented line per
/// public or protected member it declares, with full type names, parameter names and default values. Two
/// assemblies with the same text offer the same API.
/// </summary>
internal static class PublicSurface
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string Describe(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeHeader(type)).Append('\n');
            foreach (string member in Members(type).Order(StringComparer.Ordinal)) text.Append("    ").Append(member).Append('\n');
        }
        return text.ToString();
    }

    private static string TypeHeader(Type type)
    {
        string kind =
            type.IsEnum ? "enum" :
            type.IsInterface ? "interface" :
            typeof(Delegate).IsAssignableFrom(type) ? "delegate" :
            type.IsValueType ? (type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly struct" : "struct") :
            type.IsAbstract && type.IsSealed ? "static class" :
            type.IsAbstract ? "abstract class" :
            type.IsSealed ? "sealed class" : "class";
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum)
            && baseType != typeof(MulticastDelegate))
        {
            bases.Add(Name(baseType));
        }
        if (!type.IsEnum && !typeof(Delegate).IsAssignableFrom(type))
        {
            bases.AddRange(type.GetInterfaces().Select(Name).Order(StringComparer.Ordinal));
        }
        return $"{kind} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static IEnumerable<string> Members(Type type)
    {
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            yield return Method(type.GetMethod("Invoke")!);
            yield break;
        }
        foreach (MemberInfo member in type.GetMembers(Declared))
        {
            if (member.Name.StartsWith('<')) continue; // compiler-generated (a record's <Clone>$)
            switch (member)
            {
                case ConstructorInfo ctor when Visible(ctor) && !(type.IsValueType && ctor.GetParameters().Length == 0):
                    yield return $"{(ctor.IsStatic ? "static " : "")}ctor({Parameters(ctor.GetParameters())})";
                    break;
                case MethodInfo method when Visible(method) && !method.IsSpecialName:
                    yield return Method(method);
                    break;
                case MethodInfo op when Visible(op) && op.IsSpecialName && op.Name.StartsWith("op_", StringComparison.Ordinal):
                    yield return Method(op);
                    break;
                case PropertyInfo property when Property(property) is { } line:
                    yield return line;
                    break;
                case FieldInfo field when Visible(field) && !field.IsSpecialName:
                    yield return Field(type, field);
                    break;
                case EventInfo ev when ev.AddMethod is { } add && Visible(add):
                    yield return $"event {Name(ev.EventHandlerType!)} {ev.Name}";
                    break;
            }
        }
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool Visible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static string Method(MethodInfo method)
    {
        string generic = method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(a => a.Name))}>" : "";
        return $"{Modifiers(method)}{Name(method.ReturnType)} {method.Name}{generic}({Parameters(method.GetParameters())})";
    }

    private static string Modifiers(MethodInfo method) =>
        (method.IsFamily || method.IsFamilyOrAssembly ? "protected " : "") +
        (method.IsStatic ? "static " : method.IsAbstract ? "abstract " :
         method.IsVirtual && !method.IsFinal && method.GetBaseDefinition() == method ? "virtual " :
         method.IsVirtual && method.GetBaseDefinition() != method ? "override " : "");

    private static string? Property(PropertyInfo property)
    {
        MethodInfo? get = property.GetMethod is { } g && Visible(g) ? g : null;
        MethodInfo? set = property.SetMethod is { } s && Visible(s) ? s : null;
        if (get is null && set is null) return null;
        MethodInfo any = (get ?? set)!;
        string accessors = (get is null ? "" : " get;") +
            (set is null ? "" : set.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) ? " init;" : " set;");
        ParameterInfo[] index = property.GetIndexParameters();
        string name = index.Length > 0 ? $"this[{Parameters(index)}]" : property.Name;
        string required = property.IsDefined(typeof(RequiredMemberAttribute)) ? "required " : "";
        return $"{Modifiers(any)}{required}{Name(property.PropertyType)} {name} {{{accessors} }}";
    }

    private static string Field(Type type, FieldInfo field)
    {
        if (type.IsEnum) return $"{field.Name} = {Convert.ToInt64(field.GetRawConstantValue())}";
        string modifiers = field.IsLiteral ? "const " : field.IsStatic ? (field.IsInitOnly ? "static readonly " : "static ") :
            field.IsInitOnly ? "readonly " : "";
        string value = field.IsLiteral ? $" = {Literal(field.GetRawConstantValue())}" : "";
        return $"{modifiers}{Name(field.FieldType)} {field.Name}{value}";
    }

    private static string Parameters(ParameterInfo[] parameters) => string.Join(", ", parameters.Select(p =>
    {
        Type type = p.ParameterType;
        string prefix = "";
        if (type.IsByRef)
        {
            prefix = p.IsOut ? "out " : p.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }
        if (p.IsDefined(typeof(ParamArrayAttribute))) prefix = "params ";
        string defaultValue = !p.HasDefaultValue ? "" :
            p.RawDefaultValue is null && type.IsValueType && Nullable.GetUnderlyingType(type) is null ? " = default" :
            $" = {Literal(p.RawDefaultValue)}";
        return $"{prefix}{Name(type)} {p.Name}{defaultValue}";
    }));

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(object)] = "object", [typeof(string)] = "string", [typeof(bool)] = "bool",
        [typeof(byte)] = "byte", [typeof(char)] = "char", [typeof(short)] = "short", [typeof(int)] = "int",
        [typeof(long)] = "long", [typeof(uint)] = "uint", [typeof(ulong)] = "ulong", [typeof(double)] = "double",
    };

    /// <summary>A type as C# spells it, fully qualified (<c>System.Collections.Generic.List&lt;int&gt;.Enumerator</c>).</summary>
    public static string Name(Type type)
    {
        if (Keywords.TryGetValue(type, out string? keyword)) return keyword;
        if (type.IsByRef) return Name(type.GetElementType()!);
        if (type.IsArray) return $"{Name(type.GetElementType()!)}[{new string(',', type.GetArrayRank() - 1)}]";
        if (type.IsGenericParameter) return type.Name;
        if (Nullable.GetUnderlyingType(type) is { } underlying) return Name(underlying) + "?";

        Type[] arguments = type.GetGenericArguments();
        int inherited = 0;
        string prefix;
        if (type.IsNested)
        {
            Type declaring = type.DeclaringType!;
            inherited = declaring.GetGenericArguments().Length;
            if (declaring.IsGenericTypeDefinition && type.IsConstructedGenericType) declaring = declaring.MakeGenericType(arguments[..inherited]);
            prefix = Name(declaring) + ".";
        }
        else
        {
            prefix = type.Namespace is null ? "" : type.Namespace + ".";
        }
        string name = type.Name;
        int tick = name.IndexOf('`');
        if (tick >= 0) name = name[..tick];
        Type[] own = arguments[inherited..];
        return own.Length == 0 ? prefix + name : $"{prefix}{name}<{string.Join(", ", own.Select(Name))}>";
    }
}
